package dev.pagoda.diffusion.image;

import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;

/**
 * diffusers' {@code padding_mask_crop} for inpainting: only a box around the mask (widened by the
 * padding, then grown to the processing aspect ratio) is inpainted at full resolution, and the result
 * is pasted back over the original. The three steps are {@code VaeImageProcessor.get_crop_region},
 * {@code preprocess(..., crops_coords, resize_mode="fill")} and {@code apply_overlay}, reproduced on
 * 8-bit pixels with Pillow's arithmetic (Lanczos resampling, paste masks, premultiplied alpha, alpha
 * compositing), so the crop and the final composite are byte for byte diffusers'.
 *
 * @param x1 left edge of the crop box in the original image (inclusive)
 * @param y1 top edge (inclusive)
 * @param x2 right edge (exclusive)
 * @param y2 bottom edge (exclusive)
 */
public record MaskCrop(int x1, int y1, int x2, int y2) {

    /**
     * {@code get_crop_region(mask_image, width, height, pad)}: the smallest box holding every non-black
     * mask pixel, padded, then grown (and shifted back inside the image) to the aspect ratio of the
     * processing size {@code width×height}.
     *
     * @throws IllegalArgumentException when the mask is all black (there is nothing to crop to) or the
     *                                  padding is negative
     */
    public static MaskCrop region(BufferedImage maskImage, int width, int height, int pad) {
        if (pad < 0) {
            throw new IllegalArgumentException("padding_mask_crop must be ≥ 0, got " + pad);
        }
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("padding_mask_crop needs a positive processing size, got "
                    + width + "x" + height);
        }
        PilImage m = PilImage.of(maskImage).toGray();
        int w = m.width();
        int h = m.height();
        int left = 0;
        while (left < w && blankColumn(m, left)) {
            left++;
        }
        if (left == w) {
            throw new IllegalArgumentException("padding_mask_crop: the mask is all black, so there is no region to"
                    + " inpaint");
        }
        int right = 0;
        while (blankColumn(m, w - 1 - right)) {
            right++;
        }
        int top = 0;
        while (blankRow(m, top)) {
            top++;
        }
        int bottom = 0;
        while (blankRow(m, h - 1 - bottom)) {
            bottom++;
        }
        int x1 = Math.max(left - pad, 0);
        int y1 = Math.max(top - pad, 0);
        int x2 = Math.min(w - right + pad, w);
        int y2 = Math.min(h - bottom + pad, h);
        // Python's true division and int() truncation, then floor division by 2 on the (non-negative) diff
        double ratioCrop = (double) (x2 - x1) / (y2 - y1);
        double ratioProcessing = (double) width / height;
        if (ratioCrop > ratioProcessing) {
            double desiredHeight = (x2 - x1) / ratioProcessing;
            int diff = (int) (desiredHeight - (y2 - y1));
            y1 -= Math.floorDiv(diff, 2);
            y2 += diff - Math.floorDiv(diff, 2);
            if (y2 >= h) {
                int over = y2 - h;
                y2 -= over;
                y1 -= over;
            }
            if (y1 < 0) {
                y2 -= y1;
                y1 = 0;
            }
            if (y2 >= h) {
                y2 = h;
            }
        } else {
            double desiredWidth = (y2 - y1) * ratioProcessing;
            int diff = (int) (desiredWidth - (x2 - x1));
            x1 -= Math.floorDiv(diff, 2);
            x2 += diff - Math.floorDiv(diff, 2);
            if (x2 >= w) {
                int over = x2 - w;
                x2 -= over;
                x1 -= over;
            }
            if (x1 < 0) {
                x2 -= x1;
                x1 = 0;
            }
            if (x2 >= w) {
                x2 = w;
            }
        }
        return new MaskCrop(x1, y1, x2, y2);
    }

    private static boolean blankColumn(PilImage m, int x) {
        for (int y = 0; y < m.height(); y++) {
            if (m.get(x, y, 0) != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean blankRow(PilImage m, int y) {
        for (int x = 0; x < m.width(); x++) {
            if (m.get(x, y, 0) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The image's crop, "fill"-resized to {@code width×height}: {@code [1, 3, H, W]} in [-1, 1]. */
    public Tensor image(BufferedImage image, int width, int height) {
        return ImageTensors.toTensor(cropped(image, width, height));
    }

    /**
     * An image's crop "fill"-resized to {@code width×height}, as RGB: what diffusers' ControlNet inpainting does
     * to each control image under {@code padding_mask_crop}.
     */
    public BufferedImage cropped(BufferedImage image, int width, int height) {
        return fill(PilImage.of(image).crop(x1, y1, x2, y2), width, height).toBufferedImage();
    }

    /** The mask's crop, "fill"-resized, to grayscale and binarised (≥ 0.5 repaints): {@code [1, 1, H, W]}. */
    public Tensor mask(BufferedImage maskImage, int width, int height) {
        PilImage l = fill(PilImage.of(maskImage).crop(x1, y1, x2, y2), width, height).toGray();
        float[] out = new float[width * height];
        for (int i = 0; i < out.length; i++) {
            out[i] = (l.pixels()[i] & 0xff) / 255f >= 0.5f ? 1f : 0f;
        }
        return Tensor.of(out, 1, 1, height, width);
    }

    /**
     * {@code _resize_and_fill}: resize inside {@code width×height} keeping the aspect ratio, centre it on
     * a black RGB canvas, and fill the two empty bands by stretching the image's outermost pixel row
     * (or column) across them. diffusers gives the band resizes no filter, so they get Pillow's default,
     * bicubic, while the main resize is Lanczos.
     */
    static PilImage fill(PilImage img, int width, int height) {
        double ratio = (double) width / height;
        double srcRatio = (double) img.width() / img.height();
        int srcW = ratio < srcRatio ? width : img.width() * height / img.height();
        int srcH = ratio >= srcRatio ? height : img.height() * width / img.width();
        PilImage resized = img.resize(srcW, srcH);
        PilImage res = PilImage.blank(width, height, 3);
        res.paste(resized, width / 2 - srcW / 2, height / 2 - srcH / 2);
        if (ratio < srcRatio) {
            int fillHeight = height / 2 - srcH / 2;
            if (fillHeight > 0) {
                res.paste(resized.resize(width, fillHeight, BAND, 0, 0, width, 0), 0, 0);
                res.paste(resized.resize(width, fillHeight, BAND, 0, resized.height(), width, resized.height()), 0,
                        fillHeight + srcH);
            }
        } else if (ratio > srcRatio) {
            int fillWidth = width / 2 - srcW / 2;
            if (fillWidth > 0) {
                res.paste(resized.resize(fillWidth, height, BAND, 0, 0, 0, height), 0, 0);
                res.paste(resized.resize(fillWidth, height, BAND, resized.width(), 0, resized.width(), height),
                        fillWidth + srcW, 0);
            }
        }
        return res;
    }

    /** {@code _resize_and_crop}: resize to cover {@code width×height} keeping the aspect ratio, centred. */
    static PilImage cover(PilImage img, int width, int height) {
        double ratio = (double) width / height;
        double srcRatio = (double) img.width() / img.height();
        int srcW = ratio > srcRatio ? width : img.width() * height / img.height();
        int srcH = ratio <= srcRatio ? height : img.height() * width / img.width();
        PilImage res = PilImage.blank(width, height, 3);
        res.paste(img.resize(srcW, srcH), width / 2 - srcW / 2, height / 2 - srcH / 2);
        return res;
    }

    /**
     * {@code apply_overlay(mask_image, init_image, image, crops_coords)}: the generated crop is scaled back
     * into the box, and the original image is laid over it wherever the mask is not white (its alpha is
     * the inverted mask, so soft mask edges blend).
     *
     * @param generated the pipeline's output at the processing size
     * @return an RGB image of the processing size
     */
    public BufferedImage overlay(BufferedImage maskImage, BufferedImage initImage, BufferedImage generated) {
        int width = generated.getWidth();
        int height = generated.getHeight();
        PilImage init = PilImage.of(initImage).resize(width, height).toRgb();
        PilImage mask = PilImage.of(maskImage).resize(width, height).toGray();
        // init.convert("RGBA").convert("RGBa") pasted with the inverted mask onto a transparent RGBa canvas,
        // then converted back to RGBA: per channel blend(0, v, a) with Pillow's DIV255, un-premultiplied
        int n = width * height;
        int[] keepRgb = new int[3 * n];
        int[] keepAlpha = new int[n];
        for (int i = 0; i < n; i++) {
            int a = 255 - (mask.pixels()[i] & 0xff); // ImageOps.invert
            keepAlpha[i] = div255(255 * a);
            for (int c = 0; c < 3; c++) {
                int premultiplied = div255((init.pixels()[3 * i + c] & 0xff) * a);
                keepRgb[3 * i + c] = unpremultiply(premultiplied, keepAlpha[i]);
            }
        }
        PilImage base = PilImage.of(generated).toRgb();
        int w = x2 - x1;
        int h = y2 - y1;
        PilImage canvas = PilImage.blank(width, height, 3);
        canvas.paste(cover(base, w, h), x1, y1);
        byte[] out = canvas.pixels();
        for (int i = 0; i < n; i++) {
            int a = keepAlpha[i];
            if (a == 0) {
                continue;
            }
            // ImagingAlphaComposite over an opaque destination, 7 extra bits of precision
            int outA255 = a * 255 + 255 * (255 - a);
            int coef1 = (int) ((long) a * 255 * 255 * (1 << ALPHA_BITS) / outA255);
            int coef2 = 255 * (1 << ALPHA_BITS) - coef1;
            for (int c = 0; c < 3; c++) {
                int tmp = keepRgb[3 * i + c] * coef1 + (out[3 * i + c] & 0xff) * coef2;
                out[3 * i + c] = (byte) (shiftForDiv255(tmp + (0x80 << ALPHA_BITS)) >> ALPHA_BITS);
            }
        }
        return canvas.toBufferedImage();
    }

    private static final int ALPHA_BITS = 7;

    /** Pillow's default {@code resize} filter (since Pillow 7), which the fill bands get. */
    private static final PilResize.Filter BAND = PilResize.Filter.BICUBIC;

    private static int shiftForDiv255(int a) {
        return ((a >> 8) + a) >> 8;
    }

    private static int div255(int a) {
        return shiftForDiv255(a + 128);
    }

    /** Pillow's RGBa → RGBA: {@code 255·v / a}, clipped; untouched at alpha 0 and 255. */
    private static int unpremultiply(int v, int alpha) {
        if (alpha == 0 || alpha == 255) {
            return v;
        }
        return Math.min(255, 255 * v / alpha);
    }
}
