package dev.pagoda.diffusion.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

/** The linear latent -> RGB preview: the SDXL factors on a known latent pixel, and noisy latents rescaled. */
class LatentPreviewTest {

    private static int[] rgb(BufferedImage img, int x, int y) {
        int p = img.getRGB(x, y);
        return new int[] {p >> 16 & 0xff, p >> 8 & 0xff, p & 0xff};
    }

    @Test
    void aLatentPixelMapsThroughTheSdxlFactors() {
        // one pixel with latent (1, 0, 0, 0): RGB = bias + row 0 = (0.4735, 0.4057, 0.4330) in [-1, 1]
        Tensor t = Tensor.of(new float[] {1, 0, 0, 0}, 1, 4, 1, 1);
        int[] c = rgb(LatentPreview.image(t), 0, 0);
        assertEquals(Math.round((0.3651f + 0.1084f + 1) * 127.5f), c[0]);
        assertEquals(Math.round((0.4232f - 0.0175f + 1) * 127.5f), c[1]);
        assertEquals(Math.round((0.4341f - 0.0011f + 1) * 127.5f), c[2]);
    }

    @Test
    void noisyLatentsAreScaledToUnitSpreadFirst() {
        // spread 10 (values +-10 around 0): scaled by 1/10 before the map, so channel 0 = +-1
        float[] v = new float[4 * 2];
        v[0] = 10;
        v[1] = -10;
        for (int ch = 1; ch < 4; ch++) {
            v[ch * 2] = 10;
            v[ch * 2 + 1] = -10;
        }
        BufferedImage img = LatentPreview.image(Tensor.of(v, 1, 4, 1, 2));
        float r = 0.1084f + 0.3651f - 0.2533f + 0.1076f - 0.3165f;
        assertEquals(Math.round((r + 1) * 127.5f), rgb(img, 0, 0)[0]);
        assertEquals(2, img.getWidth());
    }
}
