package dev.pagoda.diffusion.image;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;

/**
 * Conversions between 8-bit RGB images and NCHW float tensors, as diffusers' {@code VaeImageProcessor}
 * does them in float32: images to [-1, 1] ({@code 2·(p/255) − 1}), masks to {0, 1}
 * (grayscale, /255, binarised at 0.5), outputs back with {@code round(clamp(x/2 + 0.5, 0, 1)·255)}.
 */
public final class ImageTensors {

    private ImageTensors() {
    }

    /** An RGB image as {@code [1, 3, H, W]} in [-1, 1]. */
    public static Tensor toTensor(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[3 * h * w];
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < h * w; i++) {
            int p = argb[i];
            for (int c = 0; c < 3; c++) {
                int v = (p >> (16 - 8 * c)) & 0xFF;
                float x = v / 255.0f;
                out[c * h * w + i] = 2.0f * x - 1.0f;
            }
        }
        return Tensor.of(out, 1, 3, h, w);
    }

    /** An RGB image as {@code [1, 3, H, W]} in [0, 1] (ControlNet conditioning: no normalisation). */
    public static Tensor toUnitTensor(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[3 * h * w];
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < h * w; i++) {
            for (int c = 0; c < 3; c++) {
                out[c * h * w + i] = ((argb[i] >> (16 - 8 * c)) & 0xFF) / 255.0f;
            }
        }
        return Tensor.of(out, 1, 3, h, w);
    }

    /**
     * A ControlNet control image as diffusers' {@code VaeImageProcessor(do_convert_rgb=True,
     * do_normalize=False)} makes it: PIL's {@code convert("RGB")} (gray replicated, alpha dropped),
     * resized to {@code w×h} with PIL's Lanczos when the size differs, {@code [1, 3, h, w]} in [0, 1].
     */
    public static Tensor toControlTensor(BufferedImage img, int h, int w) {
        int iw = img.getWidth();
        int ih = img.getHeight();
        byte[] rgb = new byte[iw * ih * 3];
        int[] row = new int[iw];
        boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        for (int y = 0; y < ih; y++) {
            if (gray) {
                // raster samples: getRGB would push gray through a colour-space conversion
                img.getRaster().getSamples(0, y, iw, 1, 0, row);
            } else {
                img.getRGB(0, y, iw, 1, row, 0, iw);
            }
            for (int x = 0; x < iw; x++) {
                int i = (y * iw + x) * 3;
                for (int c = 0; c < 3; c++) {
                    rgb[i + c] = (byte) (gray ? row[x] : row[x] >> (16 - 8 * c));
                }
            }
        }
        byte[] px = PilResize.resize(rgb, iw, ih, 3, w, h, PilResize.Filter.LANCZOS);
        float[] out = new float[3 * h * w];
        for (int i = 0; i < h * w; i++) {
            for (int c = 0; c < 3; c++) {
                out[c * h * w + i] = (px[i * 3 + c] & 0xFF) / 255.0f;
            }
        }
        return Tensor.of(out, 1, 3, h, w);
    }

    /** A mask (white = repaint) as {@code [1, 1, H, W]} of 0 and 1: PIL's "L" conversion, /255, ≥ 0.5. */
    public static Tensor toMask(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[h * w];
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < h * w; i++) {
            int p = argb[i];
            int r = (p >> 16) & 0xFF;
            int g = (p >> 8) & 0xFF;
            int b = p & 0xFF;
            int l = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
            out[i] = l / 255.0f >= 0.5f ? 1f : 0f;
        }
        return Tensor.of(out, 1, 1, h, w);
    }

    /** {@code [1, 3, H, W]} in [-1, 1] → 8-bit RGB. */
    public static BufferedImage toImage(Tensor x) {
        float[][] hwc = toUnitHwc(x);
        int h = x.dim(2);
        int w = x.dim(3);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[h * w];
        for (int i = 0; i < h * w; i++) {
            int r = (int) Math.rint(hwc[0][i] * 255f);
            int g = (int) Math.rint(hwc[1][i] * 255f);
            int b = (int) Math.rint(hwc[2][i] * 255f);
            rgb[i] = (r << 16) | (g << 8) | b;
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    /**
     * {@code [B, 3, H, W]} in [-1, 1] → {@code [B, H, W, 3]} in [0, 1] ({@code clamp(x/2 + 0.5, 0, 1)}),
     * diffusers' {@code output_type="np"}.
     */
    public static Tensor toNumpyLayout(Tensor x) {
        requireImage(x);
        int b = x.dim(0);
        int h = x.dim(2);
        int w = x.dim(3);
        float[] in = x.contiguous().toFloatArray();
        float[] out = new float[in.length];
        for (int n = 0; n < b; n++) {
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < h * w; i++) {
                    float v = in[(n * 3 + c) * h * w + i] / 2f + 0.5f;
                    out[(n * h * w + i) * 3 + c] = Math.min(Math.max(v, 0f), 1f);
                }
            }
        }
        return Tensor.of(out, b, h, w, 3);
    }

    private static float[][] toUnitHwc(Tensor x) {
        requireImage(x);
        if (x.dim(0) != 1) {
            throw new IllegalArgumentException("toImage: expected one image [1, 3, H, W], got " + Shapes.str(x.shape()));
        }
        int hw = x.dim(2) * x.dim(3);
        float[] in = x.contiguous().toFloatArray();
        float[][] out = new float[3][hw];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < hw; i++) {
                float v = in[c * hw + i] / 2f + 0.5f;
                out[c][i] = Math.min(Math.max(v, 0f), 1f);
            }
        }
        return out;
    }

    private static void requireImage(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != 3) {
            throw new IllegalArgumentException("expected an image tensor [B, 3, H, W], got " + Shapes.str(x.shape()));
        }
    }

    /**
     * Resizes to {@code w×h} as diffusers' {@code VaeImageProcessor} does for PIL inputs (Pillow's Lanczos,
     * see {@link PilResize}), or returns the image when it already has that size.
     */
    public static BufferedImage resize(BufferedImage img, int w, int h) {
        if (img.getWidth() == w && img.getHeight() == h) {
            return img;
        }
        return PilResize.resize(img, w, h, PilResize.Filter.LANCZOS);
    }
}
