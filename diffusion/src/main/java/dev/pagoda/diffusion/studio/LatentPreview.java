package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.util.Base64;
import java.util.Map;

/**
 * A cheap look at the latents while they are denoised, without the VAE: each latent pixel becomes
 * an RGB pixel by a fixed linear map (A1111's "approx cheap" preview, ComfyUI's latent2rgb). The
 * factors are the published SDXL ones; a model with another latent channel count falls back to its
 * first three channels. The image has the latents' size (1/8 of the output), scaled up by the page.
 */
final class LatentPreview {

    /** SDXL latent channel -> RGB weights (rows: latent channels 0..3; columns: R, G, B). */
    private static final float[][] SDXL = {
        {0.3651f, 0.4232f, 0.4341f},
        {-0.2533f, -0.0042f, 0.1068f},
        {0.1076f, 0.1111f, -0.0362f},
        {-0.3165f, -0.2492f, -0.2188f},
    };
    private static final float[] SDXL_BIAS = {0.1084f, -0.0175f, -0.0011f};

    private LatentPreview() {
    }

    /** The first image of {@code latents} [n, c, h, w] as an RGB image of h x w. */
    static BufferedImage image(Tensor latents) {
        int c = latents.dim(1);
        int h = latents.dim(2);
        int w = latents.dim(3);
        float[] x = latents.contiguous().toFloatArray();
        int plane = h * w;
        // Early latents are noise times the scheduler's sigma (about 14 at SDXL's first Euler step),
        // which would map to flat saturated colour: scale them to unit spread as the UNet's input
        // scaling does (x / sqrt(sigma^2 + 1)), which leaves the final, data-like latents as they are.
        double sum = 0;
        double sq = 0;
        int count = c * plane;
        for (int i = 0; i < count; i++) {
            sum += x[i];
            sq += (double) x[i] * x[i];
        }
        double mean = sum / count;
        double std = Math.sqrt(Math.max(0, sq / count - mean * mean));
        float gain = std > 1.5 ? (float) (1 / std) : 1f;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int xx = 0; xx < w; xx++) {
                int at = y * w + xx;
                int[] rgb = new int[3];
                for (int k = 0; k < 3; k++) {
                    float v;
                    if (c == 4) {
                        v = SDXL_BIAS[k];
                        for (int ch = 0; ch < 4; ch++) {
                            v += SDXL[ch][k] * gain * x[ch * plane + at];
                        }
                    } else {
                        v = gain * x[Math.min(k, c - 1) * plane + at] * 0.5f;
                    }
                    // the map gives about [-1, 1], as the decoder's output
                    rgb[k] = Math.clamp(Math.round((v + 1f) * 127.5f), 0, 255);
                }
                img.setRGB(xx, y, rgb[0] << 16 | rgb[1] << 8 | rgb[2]);
            }
        }
        return img;
    }

    /** {@link #image} as a {@code data:image/png;base64,...} URL for a progress event. */
    static String dataUrl(Tensor latents) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(PngWriter.encode(image(latents),
                Map.of()));
    }
}
