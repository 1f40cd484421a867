package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.MaskCrop;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;

/**
 * {@code --init-image}, {@code --mask}, {@code --strength} and {@code --padding-mask-crop}: the flags of
 * image-to-image and inpainting, checked together before any model loads, and the images they name,
 * loaded and resized as diffusers' image processor does.
 *
 * @param strength        null: the pipeline's default
 * @param paddingMaskCrop null: the whole image is inpainted
 */
record InputImageArgs(Float strength, Integer paddingMaskCrop) {

    /** The flags' settings; every combination that cannot work is a usage error here. */
    static InputImageArgs parse(Args a) {
        Float strength = a.has("strength") ? a.number("strength", 0) : null;
        if (strength != null && !(strength > 0 && strength <= 1)) {
            throw new UsageException("--strength must be in (0, 1], got " + strength);
        }
        if (a.has("mask") && !a.has("init-image")) {
            throw new UsageException("--mask needs --init-image");
        }
        if (a.has("strength") && !a.has("init-image")) {
            throw new UsageException("--strength needs --init-image");
        }
        if (a.has("padding-mask-crop") && !a.has("mask")) {
            throw new UsageException("--padding-mask-crop needs --init-image and --mask (it crops the inpainting)");
        }
        Integer pad = a.has("padding-mask-crop") ? a.integer("padding-mask-crop", 0) : null;
        if (pad != null && pad < 0) {
            throw new UsageException("--padding-mask-crop must be ≥ 0, got " + pad);
        }
        return new InputImageArgs(strength, pad);
    }

    /** The loaded input: tensors, or the 8-bit image and mask for padding_mask_crop; the generation size. */
    record Loaded(Tensor image, Tensor mask, BufferedImage cropImage, BufferedImage cropMask, int height, int width) {

        void applyTo(GenerationParams.Builder b, InputImageArgs args) {
            if (image != null) {
                b.image(image);
            }
            if (mask != null) {
                b.mask(mask);
            }
            if (cropImage != null) {
                b.paddingMaskCrop(args.paddingMaskCrop(), cropImage, cropMask);
            }
            if (args.strength() != null) {
                b.strength(args.strength());
            }
        }
    }

    /**
     * Loads the images (null without {@code --init-image}); the size is {@code width}/{@code height} when given,
     * else the image's rounded down to multiples of 8.
     */
    Loaded load(Args a, Integer width, Integer height) {
        if (!a.has("init-image")) {
            return null;
        }
        BufferedImage img = ImageSource.load(a.get("init-image", null));
        int w = width != null ? width : img.getWidth() / 8 * 8;
        int h = height != null ? height : img.getHeight() / 8 * 8;
        if (!a.has("mask")) {
            return new Loaded(ImageTensors.toTensor(ImageTensors.resize(img, w, h)), null, null, null, h, w);
        }
        BufferedImage m = ImageSource.load(a.get("mask", null));
        if (m.getWidth() != img.getWidth() || m.getHeight() != img.getHeight()) {
            throw new UsageException("mask size " + m.getWidth() + "x" + m.getHeight()
                    + " differs from the image size " + img.getWidth() + "x" + img.getHeight());
        }
        if (paddingMaskCrop == null) {
            return new Loaded(ImageTensors.toTensor(ImageTensors.resize(img, w, h)),
                    ImageTensors.toMask(ImageTensors.resize(m, w, h)), null, null, h, w);
        }
        try {
            MaskCrop.region(m, w, h, paddingMaskCrop); // an all-black mask fails before any model loads
        } catch (IllegalArgumentException e) {
            throw new UsageException("--mask " + a.get("mask", null) + ": " + e.getMessage());
        }
        // the pipeline crops around the mask and resizes the crop itself
        return new Loaded(null, null, img, m, h, w);
    }
}
