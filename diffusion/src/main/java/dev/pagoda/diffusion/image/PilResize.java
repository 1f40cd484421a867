package dev.pagoda.diffusion.image;

import java.awt.image.BufferedImage;

/**
 * Pillow's {@code Image.resize} for 8-bit images, bit for bit: what diffusers' {@code VaeImageProcessor}
 * (Lanczos by default) and transformers' {@code CLIPImageProcessor} (bicubic) do to an input image
 * before it reaches a model. Java2D's interpolation differs from PIL's in its kernels, its handling of
 * downscaling (PIL widens the kernel by the scale factor, an antialiasing low-pass) and its rounding, so
 * images that must be resized would not match diffusers without this.
 *
 * <p>The arithmetic follows Pillow's {@code Resample.c}: separable, horizontal pass first (only over the
 * source rows the vertical pass reads), coefficients normalised in double and quantised to 22-bit fixed
 * point, each pass rounded and clipped to 8 bits. {@link Filter#NEAREST} is Pillow's affine nearest
 * sampling ({@code ImagingScaleAffine}), with its incremental source coordinates.
 */
public final class PilResize {

    /** Pillow's resampling filters and their supports (in source pixels at scale 1). */
    public enum Filter {
        NEAREST(0), BOX(0.5), BILINEAR(1), HAMMING(1), BICUBIC(2), LANCZOS(3);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            switch (this) {
                case BOX:
                    return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
                case BILINEAR:
                    x = Math.abs(x);
                    return x < 1.0 ? 1.0 - x : 0.0;
                case HAMMING: {
                    x = Math.abs(x);
                    if (x == 0.0) {
                        return 1.0;
                    }
                    if (x >= 1.0) {
                        return 0.0;
                    }
                    double px = x * Math.PI;
                    // Pillow writes the window's constants as C floats.
                    return StrictMath.sin(px) / px * ((double) 0.54f + (double) 0.46f * StrictMath.cos(px));
                }
                case BICUBIC: {
                    final double a = -0.5;
                    x = Math.abs(x);
                    if (x < 1.0) {
                        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                    }
                    if (x < 2.0) {
                        return (((x - 5) * x + 8) * x - 4) * a;
                    }
                    return 0.0;
                }
                case LANCZOS:
                    return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
                default:
                    throw new IllegalStateException("no kernel for " + this);
            }
        }

        /** Parses "lanczos", "bicubic", ... (diffusers' and PIL's names). */
        public static Filter parse(String name) {
            for (Filter f : values()) {
                if (f.name().equalsIgnoreCase(name)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown resampling filter '" + name
                    + "' (expected nearest, box, bilinear, hamming, bicubic or lanczos)");
        }
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResize() {
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return StrictMath.sin(x) / x;
    }

    /**
     * Resizes an image as PIL does. Grayscale images ({@code TYPE_BYTE_GRAY}) stay one channel (PIL mode
     * "L"); everything else is treated as RGB (alpha dropped, as PIL's {@code convert("RGB")}).
     */
    public static BufferedImage resize(BufferedImage img, int width, int height, Filter filter) {
        requireSize(width, height);
        PilImage in = PilImage.of(img);
        return new PilImage(width, height, in.channels(), resize(in.pixels(), in.width(), in.height(), in.channels(),
                width, height, filter)).toBufferedImage();
    }

    /**
     * Resizes interleaved 8-bit pixels {@code [h][w][channels]}.
     *
     * @return the resized pixels {@code [outH][outW][channels]}
     */
    public static byte[] resize(byte[] src, int w, int h, int channels, int outW, int outH, Filter filter) {
        if (w == outW && h == outH) {
            checkPixels(src, w, h, channels);
            return src.clone(); // Image.resize returns a copy when the size is unchanged and no box is given
        }
        return resize(src, w, h, channels, outW, outH, filter, 0, 0, w, h);
    }

    /**
     * {@code Image.resize(size, box=(x0, y0, x1, y1))}: resamples the source region {@code box} (in source
     * pixels, possibly of zero width or height: diffusers' "fill" resize stretches an edge that way) to
     * {@code outW×outH}. Each pass runs only where PIL's does: the horizontal one when the width or the
     * box's x range differ from the source's, the vertical one likewise.
     *
     * @return the resized pixels {@code [outH][outW][channels]}
     */
    public static byte[] resize(byte[] src, int w, int h, int channels, int outW, int outH, Filter filter,
            double x0, double y0, double x1, double y1) {
        requireSize(outW, outH);
        checkPixels(src, w, h, channels);
        if (!(x0 >= 0 && y0 >= 0 && x1 <= w && y1 <= h && x0 <= x1 && y0 <= y1)) {
            throw new IllegalArgumentException("PilResize: box (" + x0 + ", " + y0 + ", " + x1 + ", " + y1
                    + ") must lie inside the " + w + "x" + h + " image");
        }
        if (filter == Filter.NEAREST) {
            if (x0 != 0 || y0 != 0 || x1 != w || y1 != h) {
                throw new IllegalArgumentException("PilResize: a box needs a resampling filter other than nearest");
            }
            return nearest(src, w, h, channels, outW, outH);
        }
        boolean horizontalPass = outW != w || x0 != 0 || x1 != w;
        boolean verticalPass = outH != h || y0 != 0 || y1 != h;
        Coefficients horiz = Coefficients.of(w, x0, x1, outW, filter);
        Coefficients vert = Coefficients.of(h, y0, y1, outH, filter);
        byte[] cur = src;
        int curH = h;
        int curW = w;
        int rowShift = 0;
        if (horizontalPass) {
            // Only the source rows the vertical pass reads are resampled horizontally.
            int first = vert.min[0];
            int last = vert.min[outH - 1] + vert.len[outH - 1];
            cur = horizontal(src, w, channels, first, last - first, horiz);
            curW = outW;
            curH = last - first;
            rowShift = first;
        }
        if (verticalPass) {
            cur = vertical(cur, curW, curH, channels, vert, rowShift);
        }
        return cur == src ? src.clone() : cur;
    }

    private static void checkPixels(byte[] src, int w, int h, int channels) {
        if (w < 1 || h < 1 || channels < 1 || (long) w * h * channels != src.length) {
            throw new IllegalArgumentException("PilResize: " + src.length + " bytes do not hold a " + w + "x" + h
                    + " image with " + channels + " channels");
        }
    }

    /** Per output pixel: the first source index, the tap count, and fixed-point weights. */
    private record Coefficients(int[] min, int[] len, int[] weights, int ksize) {

        /** PIL's {@code precompute_coeffs} for the source range {@code [in0, in1)} of {@code inSize} pixels. */
        static Coefficients of(int inSize, double in0, double in1, int outSize, Filter filter) {
            double scale = (in1 - in0) / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] min = new int[outSize];
            int[] len = new int[outSize];
            int[] weights = new int[outSize * ksize];
            double[] k = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = in0 + (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                // C's (int) truncates toward zero; PIL clamps afterwards.
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double wgt = filter.weight((x + xmin - center + 0.5) * ss);
                    k[x] = wgt;
                    ww += wgt;
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? k[x] / ww : k[x];
                    weights[xx * ksize + x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                            : 0.5 + v * (1 << PRECISION_BITS));
                }
                min[xx] = xmin;
                len[xx] = Math.max(xmax, 0);
            }
            return new Coefficients(min, len, weights, ksize);
        }
    }

    private static int clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static byte[] horizontal(byte[] src, int w, int c, int firstRow, int rows, Coefficients k) {
        int outW = k.min().length;
        byte[] out = new byte[rows * outW * c];
        for (int y = 0; y < rows; y++) {
            int srcRow = (firstRow + y) * w * c;
            for (int xx = 0; xx < outW; xx++) {
                int xmin = k.min()[xx];
                int n = k.len()[xx];
                int kb = xx * k.ksize();
                for (int ch = 0; ch < c; ch++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int x = 0; x < n; x++) {
                        acc += (src[srcRow + (x + xmin) * c + ch] & 0xff) * k.weights()[kb + x];
                    }
                    out[(y * outW + xx) * c + ch] = (byte) clip8(acc);
                }
            }
        }
        return out;
    }

    private static byte[] vertical(byte[] src, int w, int h, int c, Coefficients k, int rowShift) {
        int outH = k.min().length;
        byte[] out = new byte[outH * w * c];
        for (int yy = 0; yy < outH; yy++) {
            int ymin = k.min()[yy] - rowShift;
            int n = k.len()[yy];
            int kb = yy * k.ksize();
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < c; ch++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < n; y++) {
                        acc += (src[((y + ymin) * w + x) * c + ch] & 0xff) * k.weights()[kb + y];
                    }
                    out[(yy * w + x) * c + ch] = (byte) clip8(acc);
                }
            }
        }
        return out;
    }

    /** Pillow's ImagingScaleAffine: source coordinates accumulated step by step, truncated. */
    private static byte[] nearest(byte[] src, int w, int h, int c, int outW, int outH) {
        double ax = (double) w / outW;
        double ay = (double) h / outH;
        int[] xin = new int[outW];
        double xo = ax * 0.5;
        for (int x = 0; x < outW; x++) {
            xin[x] = Math.min((int) xo, w - 1);
            xo += ax;
        }
        byte[] out = new byte[outW * outH * c];
        double yo = ay * 0.5;
        for (int y = 0; y < outH; y++) {
            int yi = Math.min((int) yo, h - 1);
            for (int x = 0; x < outW; x++) {
                System.arraycopy(src, (yi * w + xin[x]) * c, out, (y * outW + x) * c, c);
            }
            yo += ay;
        }
        return out;
    }

    private static void requireSize(int w, int h) {
        if (w < 1 || h < 1) {
            throw new IllegalArgumentException("PilResize: target size must be at least 1x1, got " + w + "x" + h);
        }
    }
}
