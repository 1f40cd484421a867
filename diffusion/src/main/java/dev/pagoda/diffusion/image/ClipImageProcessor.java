package dev.pagoda.diffusion.image;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code CLIPImageProcessor}: RGB conversion (transparent pixels composited over
 * white, as {@code convert_to_rgb} does), resize so the shortest side is {@code size} with Pillow's
 * filter ({@link PilResize}, bit-exact), center crop (zero-padding when the crop is larger), rescale
 * by {@code rescale_factor} (in double, stored as float32) and normalise with float32 mean/std — the
 * arithmetic of transformers' numpy path.
 *
 * @param shortestEdge resize target of the shorter side, or 0 when {@code height}/{@code width} are given
 * @param height       exact resize height when {@code shortestEdge} is 0
 * @param width        exact resize width when {@code shortestEdge} is 0
 */
public record ClipImageProcessor(boolean doResize, int shortestEdge, int height, int width, PilResize.Filter resample,
        boolean doCenterCrop, int cropHeight, int cropWidth, boolean doRescale, double rescaleFactor,
        boolean doNormalize, float[] mean, float[] std, boolean doConvertRgb) {

    public static final float[] OPENAI_CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] OPENAI_CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    public ClipImageProcessor {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("CLIPImageProcessor: image_mean and image_std need 3 values");
        }
        mean = mean.clone();
        std = std.clone();
        if ((doResize && shortestEdge <= 0 && (height <= 0 || width <= 0)) || (doCenterCrop
                && (cropHeight <= 0 || cropWidth <= 0))) {
            throw new IllegalArgumentException("CLIPImageProcessor: sizes must be positive");
        }
    }

    /** What diffusers' {@code load_ip_adapter} creates: {@code CLIPImageProcessor(size=s, crop_size=s)}. */
    public static ClipImageProcessor defaults(int imageSize) {
        return new ClipImageProcessor(true, imageSize, 0, 0, PilResize.Filter.BICUBIC, true, imageSize, imageSize,
                true, 1 / 255.0, true, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, true);
    }

    /** Reads a {@code preprocessor_config.json} (a pipeline's {@code feature_extractor/}). */
    public static ClipImageProcessor read(Path json) {
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(json + ": no such image processor config");
        }
        JsonConfig c = JsonConfig.read(json);
        int se = 224;
        int h = 0;
        int w = 0;
        Object size = c.raw("size");
        if (size instanceof Number n) {
            se = n.intValue();
        } else if (size instanceof Map<?, ?> m) {
            if (m.get("shortest_edge") instanceof Number n) {
                se = n.intValue();
            } else if (m.get("height") instanceof Number hh && m.get("width") instanceof Number ww) {
                se = 0;
                h = hh.intValue();
                w = ww.intValue();
            } else {
                throw new IllegalArgumentException(json + ": size must hold shortest_edge or height and width");
            }
        }
        int ch = 224;
        int cw = 224;
        Object crop = c.raw("crop_size");
        if (crop instanceof Number n) {
            ch = cw = n.intValue();
        } else if (crop instanceof Map<?, ?> m && m.get("height") instanceof Number hh
                && m.get("width") instanceof Number ww) {
            ch = hh.intValue();
            cw = ww.intValue();
        }
        return new ClipImageProcessor(c.bool("do_resize", true), se, h, w,
                PilResize.Filter.values()[filterIndex(json, c.integer("resample", 3))], c.bool("do_center_crop", true),
                ch, cw, c.bool("do_rescale", true), c.number("rescale_factor", 1 / 255.0), c.bool("do_normalize", true),
                floats(c, "image_mean", OPENAI_CLIP_MEAN), floats(c, "image_std", OPENAI_CLIP_STD),
                c.bool("do_convert_rgb", true));
    }

    private static int filterIndex(Path json, int pil) {
        // PIL's numbering: NEAREST 0, LANCZOS 1, BILINEAR 2, BICUBIC 3, BOX 4, HAMMING 5
        PilResize.Filter f = switch (pil) {
            case 0 -> PilResize.Filter.NEAREST;
            case 1 -> PilResize.Filter.LANCZOS;
            case 2 -> PilResize.Filter.BILINEAR;
            case 3 -> PilResize.Filter.BICUBIC;
            case 4 -> PilResize.Filter.BOX;
            case 5 -> PilResize.Filter.HAMMING;
            default -> throw new IllegalArgumentException(json + ": unknown resample " + pil);
        };
        return f.ordinal();
    }

    private static float[] floats(JsonConfig c, String key, float[] dflt) {
        Object v = c.raw(key);
        if (!(v instanceof List<?> l)) {
            return dflt;
        }
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).floatValue();
        }
        return out;
    }

    /** {@code pixel_values} {@code [1, 3, cropH, cropW]} of one image. */
    public Tensor preprocess(BufferedImage img) {
        if (img == null || img.getWidth() < 1 || img.getHeight() < 1) {
            throw new ImageException("CLIPImageProcessor: empty image");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] px = rgb(img);
        if (doResize) {
            int nh;
            int nw;
            if (shortestEdge > 0) {
                // transformers' get_resize_output_image_size(default_to_square=False)
                boolean wide = w > h;
                int shortSide = wide ? h : w;
                int longSide = wide ? w : h;
                int newLong = (int) ((long) shortestEdge * longSide / shortSide);
                nh = wide ? shortestEdge : newLong;
                nw = wide ? newLong : shortestEdge;
            } else {
                nh = height;
                nw = width;
            }
            px = PilResize.resize(px, w, h, 3, nw, nh, resample);
            w = nw;
            h = nh;
        }
        int oh = doCenterCrop ? cropHeight : h;
        int ow = doCenterCrop ? cropWidth : w;
        // transformers' center_crop: floor-centred window; pad with zeros (ceil-centred) when larger
        int top = Math.floorDiv(h - oh, 2);
        int left = Math.floorDiv(w - ow, 2);
        float[] out = new float[3 * oh * ow];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int sy = y + top;
                    int sx = x + left;
                    int padTop = h < oh ? (oh - h + 1) / 2 : 0;
                    int padLeft = w < ow ? (ow - w + 1) / 2 : 0;
                    if (h < oh) {
                        sy = y - padTop;
                    }
                    if (w < ow) {
                        sx = x - padLeft;
                    }
                    float v = 0f;
                    if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
                        v = px[(sy * w + sx) * 3 + c] & 0xff;
                    }
                    if (doRescale) {
                        v = (float) (v * rescaleFactor);
                    }
                    if (doNormalize) {
                        v = (v - mean[c]) / std[c];
                    }
                    out[(c * oh + y) * ow + x] = v;
                }
            }
        }
        return Tensor.of(out, 1, 3, oh, ow);
    }

    /** Interleaved RGB bytes; gray read from the raster, alpha composited over white like Pillow. */
    static byte[] rgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] p = new byte[w * h * 3];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRaster().getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3;
                    p[i] = p[i + 1] = p[i + 2] = (byte) row[x];
                }
            }
            return p;
        }
        boolean alpha = img.getColorModel().hasAlpha();
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int argb = row[x];
                int a = argb >>> 24;
                int i = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    int v = (argb >> (16 - 8 * c)) & 0xff;
                    p[i + c] = (byte) (alpha ? overWhite(v, a) : v);
                }
            }
        }
        return p;
    }

    /** Pillow's {@code alpha_composite} of (v, a) over opaque white, in its fixed-point form. */
    static int overWhite(int v, int a) {
        int coef1 = a * 128;
        int coef2 = (255 - a) * 128;
        int tmp = v * coef1 + 255 * coef2 + (0x80 << 7);
        return (((tmp >> 8) + tmp) >> 8) >> 7;
    }
}
