package dev.pagoda.diffusion.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * PilResize against Pillow 9.4's own output (fixtures made by {@code pil-resize/make_fixtures.py}):
 * every filter, down- and up-sampling, awkward sizes, RGB and L images, compared byte for byte.
 */
class PilResizeTest {

    private static final int[][] SIZES = {{1, 1}, {5, 3}, {16, 16}, {37, 11}, {64, 48}, {13, 40}, {111, 69}};

    private static BufferedImage load(String name) throws IOException {
        try (InputStream in = PilResizeTest.class.getResourceAsStream("/pil-resize/" + name)) {
            if (in == null) {
                throw new IOException("missing fixture " + name);
            }
            return ImageIO.read(in);
        }
    }

    private static int[] rgb(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private static int[] gray(BufferedImage img) {
        return img.getRaster().getSamples(0, 0, img.getWidth(), img.getHeight(), 0, (int[]) null);
    }

    @Test
    void everyFilterAndSizeEqualsPillowByteForByte() throws IOException {
        BufferedImage src = load("in.png");
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        for (PilResize.Filter f : PilResize.Filter.values()) {
            for (int[] s : SIZES) {
                String name = f.name().toLowerCase() + "_" + s[0] + "x" + s[1] + ".png";
                BufferedImage expected = load(name);
                BufferedImage got = PilResize.resize(src, s[0], s[1], f);
                assertEquals(s[0], got.getWidth(), name);
                assertEquals(s[1], got.getHeight(), name);
                int[] e = rgb(expected);
                int[] g = rgb(got);
                int diff = 0;
                for (int i = 0; i < e.length; i++) {
                    if ((e[i] & 0xffffff) != (g[i] & 0xffffff)) {
                        diff++;
                    }
                }
                if (diff > 0) {
                    mismatches.add(name + ": " + diff + " pixels differ");
                }
                compared++;
            }
        }
        assertEquals(42, compared);
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    @Test
    void grayImagesStayOneChannelAndEqualPillow() throws IOException {
        BufferedImage src = load("mask.png");
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, src.getType());
        for (PilResize.Filter f : PilResize.Filter.values()) {
            BufferedImage expected = load("mask_" + f.name().toLowerCase() + "_29x17.png");
            BufferedImage got = PilResize.resize(src, 29, 17, f);
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, got.getType());
            assertArrayEquals(gray(expected), gray(got), f.name());
        }
    }

    @Test
    void downscalingIsAntialiasedUnlikeSampling() {
        // A one-pixel checkerboard averages to mid grey under every antialiased filter.
        int w = 40;
        byte[] p = new byte[w * w];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (((i / w + i % w) & 1) == 0 ? 255 : 0);
        }
        byte[] out = PilResize.resize(p, w, w, 1, 10, 10, PilResize.Filter.BILINEAR);
        for (byte b : out) {
            assertTrue(Math.abs((b & 0xff) - 128) <= 2, "got " + (b & 0xff));
        }
    }

    @Test
    void badInputIsNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> PilResize.resize(new byte[5], 2, 2, 1, 3, 3, PilResize.Filter.LANCZOS));
        assertTrue(e.getMessage().contains("2x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PilResize.resize(new byte[4], 2, 2, 1, 0, 3, PilResize.Filter.LANCZOS));
        var f = assertThrows(IllegalArgumentException.class, () -> PilResize.Filter.parse("cubic"));
        assertTrue(f.getMessage().contains("cubic"));
        assertEquals(PilResize.Filter.LANCZOS, PilResize.Filter.parse("lanczos"));
    }
}
