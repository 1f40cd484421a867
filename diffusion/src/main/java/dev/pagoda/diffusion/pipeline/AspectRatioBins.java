package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * PixArt's resolution binning ({@code use_resolution_binning}): diffusers 0.31's
 * {@code ASPECT_RATIO_{256,512,1024,2048}_BIN} tables (a vendored copy made from the diffusers source
 * by {@code diffusion/src/test/resources/pixart/make_aspect_ratio_bins.py}), the nearest bin of a
 * requested size ({@code classify_height_width_bin}), and {@code resize_and_crop_tensor}: torch's
 * bilinear {@code F.interpolate} (align_corners=False, no antialias) to cover the requested size,
 * then a centre crop.
 */
public final class AspectRatioBins {

    private record Bin(double ratio, int height, int width) {
    }

    private static final Map<Integer, List<Bin>> BINS = read();

    private AspectRatioBins() {
    }

    private static Map<Integer, List<Bin>> read() {
        try (InputStream in = AspectRatioBins.class.getResourceAsStream("pixart_aspect_ratio_bins.json")) {
            if (in == null) {
                throw new IllegalStateException("pixart_aspect_ratio_bins.json missing from the class path");
            }
            Map<String, Object> root = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            Map<Integer, List<Bin>> out = new java.util.HashMap<>();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) root.get("bins")).entrySet()) {
                out.put(Integer.parseInt(e.getKey()), ((List<Object>) e.getValue()).stream().map(o -> {
                    List<Object> l = (List<Object>) o;
                    return new Bin(Double.parseDouble((String) l.get(0)), ((Number) l.get(1)).intValue(),
                            ((Number) l.get(2)).intValue());
                }).toList());
            }
            return Map.copyOf(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The bin table for a transformer {@code sample_size}: 256 → 2048 px, 128 → 1024, 64 → 512, 32 → 256.
     *
     * @throws IllegalArgumentException for any other sample size (diffusers: "Invalid sample size")
     */
    static int binResolution(int sampleSize) {
        return switch (sampleSize) {
            case 256 -> 2048;
            case 128 -> 1024;
            case 64 -> 512;
            case 32 -> 256;
            default -> throw new IllegalArgumentException("resolution binning: no aspect-ratio bins for a transformer"
                    + " sample_size of " + sampleSize + " (bins exist for 32, 64, 128, 256); generate with"
                    + " useResolutionBinning(false) (CLI: --no-resolution-binning)");
        };
    }

    /** {@code classify_height_width_bin}: the bin whose ratio is nearest to {@code h / w} (first of equals). */
    public static int[] classify(int height, int width, int resolution) {
        List<Bin> bins = BINS.get(resolution);
        if (bins == null) {
            throw new IllegalArgumentException("resolution binning: no bins for " + resolution + " px");
        }
        double ar = (double) height / width;
        Bin best = bins.get(0);
        for (Bin b : bins) {
            if (Math.abs(b.ratio() - ar) < Math.abs(best.ratio() - ar)) {
                best = b;
            }
        }
        return new int[] {best.height(), best.width()};
    }

    /** {@code resize_and_crop_tensor(images[N, C, H, W], width, height)}. */
    public static Tensor resizeAndCrop(Tensor images, int height, int width) {
        int h = images.dim(2);
        int w = images.dim(3);
        if (h == height && w == width) {
            return images;
        }
        double ratio = Math.max((double) height / h, (double) width / w);
        int rw = (int) (w * ratio);
        int rh = (int) (h * ratio);
        Tensor resized = bilinear(images, rh, rw);
        int x0 = (rw - width) / 2;
        int y0 = (rh - height) / 2;
        return resized.narrow(2, y0, height).narrow(3, x0, width).contiguous();
    }

    /**
     * torch's {@code upsample_bilinear2d} on the CPU, align_corners=False: source indices and weights
     * in double (torch's CPU accumulation type for float), weights rounded to float, products in float.
     */
    static Tensor bilinear(Tensor x, int oh, int ow) {
        int n = x.dim(0);
        int c = x.dim(1);
        int ih = x.dim(2);
        int iw = x.dim(3);
        float[] in = x.contiguous().toFloatArray();
        float[] out = new float[n * c * oh * ow];
        for (int y = 0; y < oh; y++) {
            double ry = sourceIndex((double) ih / oh, y);
            int y1 = (int) ry;
            int dy = y1 < ih - 1 ? 1 : 0;
            float ly1 = (float) (ry - y1);
            float ly0 = (float) (1 - (ry - y1));
            for (int xx = 0; xx < ow; xx++) {
                double rx = sourceIndex((double) iw / ow, xx);
                int x1 = (int) rx;
                int dx = x1 < iw - 1 ? 1 : 0;
                float lx1 = (float) (rx - x1);
                float lx0 = (float) (1 - (rx - x1));
                for (int p = 0; p < n * c; p++) {
                    int base = p * ih * iw + y1 * iw + x1;
                    out[(p * oh + y) * ow + xx] = lx0 * (ly0 * in[base] + ly1 * in[base + dy * iw])
                            + lx1 * (ly0 * in[base + dx] + ly1 * in[base + dy * iw + dx]);
                }
            }
        }
        return Tensor.of(out, n, c, oh, ow);
    }

    /** {@code area_pixel_compute_source_index} (not cubic: negative indices clamp to 0). */
    private static double sourceIndex(double scale, int dst) {
        double src = scale * (dst + 0.5) - 0.5;
        return src < 0 ? 0 : src;
    }
}
