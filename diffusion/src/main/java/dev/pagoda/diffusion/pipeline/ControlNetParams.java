package dev.pagoda.diffusion.pipeline;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The ControlNet arguments of an SDXL ControlNet pipeline call, as diffusers names them. Each list
 * either has one entry per ControlNet or a single entry that applies to all (diffusers broadcasts a
 * float the same way); the pipeline checks the lengths against its nets.
 *
 * @param images            {@code image} (text-to-image) / {@code control_image} (image-to-image): one
 *                          control image per ControlNet, any size; it is converted to RGB and resized
 *                          to the generation size with PIL's Lanczos filter, in [0, 1] (no normalisation)
 * @param conditioningScale {@code controlnet_conditioning_scale}; null for the pipeline's default (1.0; diffusers'
 *                          SD ControlNet inpainting: 0.5)
 * @param guidanceStart     {@code control_guidance_start}: fraction of the steps before which the net is off (default 0)
 * @param guidanceEnd       {@code control_guidance_end}: fraction of the steps after which the net is off (default 1)
 * @param guessMode         {@code guess_mode}: with CFG the nets see only the cond rows (uncond residuals are
 *                          zero) and residuals are scaled from 0.1 (shallowest) to 1.0 (mid block)
 * @param resize            false: a control image whose size differs from the generation size is an error
 *                          instead of being resized
 */
public record ControlNetParams(
        List<BufferedImage> images,
        float[] conditioningScale,
        float[] guidanceStart,
        float[] guidanceEnd,
        boolean guessMode,
        boolean resize) {

    public ControlNetParams {
        if (images == null || images.isEmpty() || images.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("ControlNet: at least one control image is required (and none may be null)");
        }
        images = List.copyOf(images);
        conditioningScale = conditioningScale == null ? null
                : nonEmpty("controlnet_conditioning_scale", conditioningScale, null);
        guidanceStart = nonEmpty("control_guidance_start", guidanceStart, new float[] {0f});
        guidanceEnd = nonEmpty("control_guidance_end", guidanceEnd, new float[] {1f});
        for (float s : conditioningScale == null ? new float[0] : conditioningScale) {
            if (!Float.isFinite(s)) {
                throw new IllegalArgumentException("ControlNet: controlnet_conditioning_scale must be finite, got " + s);
            }
        }
    }

    /** One image per net, every other argument at diffusers' default. */
    public static ControlNetParams of(BufferedImage... images) {
        return new ControlNetParams(List.of(images), null, null, null, false, true);
    }

    private static float[] nonEmpty(String name, float[] v, float[] dflt) {
        if (v == null) {
            return dflt;
        }
        if (v.length == 0) {
            throw new IllegalArgumentException("ControlNet: " + name + " must not be an empty list");
        }
        return v.clone();
    }

    /**
     * Per-net values of {@code v} for {@code nets} ControlNets: a single value broadcasts; otherwise
     * the length must match.
     *
     * @throws IllegalArgumentException naming the argument when the length fits neither
     */
    static float[] perNet(String name, float[] v, int nets) {
        if (v.length == nets) {
            return v.clone();
        }
        if (v.length == 1) {
            float[] out = new float[nets];
            java.util.Arrays.fill(out, v[0]);
            return out;
        }
        throw new IllegalArgumentException("ControlNet: " + name + " has " + v.length + " values for " + nets
                + " ControlNet" + (nets == 1 ? "" : "s") + " (give one, or one per net)");
    }

    public ControlNetParams withScale(float... scale) {
        return new ControlNetParams(images, scale, guidanceStart, guidanceEnd, guessMode, resize);
    }

    public ControlNetParams withGuidance(float[] start, float[] end) {
        return new ControlNetParams(images, conditioningScale, start, end, guessMode, resize);
    }

    public ControlNetParams withGuessMode(boolean on) {
        return new ControlNetParams(images, conditioningScale, guidanceStart, guidanceEnd, on, resize);
    }

    /** The same arguments with other control images (one per net). */
    public ControlNetParams withImages(List<BufferedImage> other) {
        return new ControlNetParams(other, conditioningScale, guidanceStart, guidanceEnd, guessMode, resize);
    }

    public ControlNetParams withResize(boolean on) {
        return new ControlNetParams(images, conditioningScale, guidanceStart, guidanceEnd, guessMode, on);
    }

    /**
     * A call's ControlNet conditioning for {@code controlnet} (null for a pipeline without ControlNets,
     * then the result is null too), shared by the SDXL and SD pipelines.
     *
     * @param howToGetOne where the error for control images on a pipeline without nets points the user
     * @throws IllegalArgumentException when the call's ControlNet arguments do not fit the nets
     */
    static dev.pagoda.diffusion.controlnet.ControlNetConditioning prepare(
            dev.pagoda.nn.controlnet.MultiControlNetModel controlnet, ControlNetParams cp,
            dev.pagoda.diffusion.guidance.GuidedBatch batch, int h, int w, dev.pagoda.tensor.Backend device,
            String howToGetOne) {
        return prepare(controlnet, cp, batch, h, w, device, howToGetOne, null, 1f);
    }

    /**
     * As {@link #prepare(dev.pagoda.nn.controlnet.MultiControlNetModel, ControlNetParams,
     * dev.pagoda.diffusion.guidance.GuidedBatch, int, int, dev.pagoda.tensor.Backend, String)} for a pipeline
     * named {@code noGuessMode} that has no {@code guess_mode} (diffusers' SD ControlNet PAG inpainting passes
     * {@code guess_mode=False} whatever the nets' {@code global_pool_conditions}); null for one that has it.
     * {@code defaultScale} is the pipeline's {@code controlnet_conditioning_scale} when the call gives none.
     *
     * @throws IllegalArgumentException also when guess mode is asked of a pipeline without it
     */
    static dev.pagoda.diffusion.controlnet.ControlNetConditioning prepare(
            dev.pagoda.nn.controlnet.MultiControlNetModel controlnet, ControlNetParams cp,
            dev.pagoda.diffusion.guidance.GuidedBatch batch, int h, int w, dev.pagoda.tensor.Backend device,
            String howToGetOne, String noGuessMode, float defaultScale) {
        if (controlnet == null) {
            if (cp != null) {
                throw new IllegalArgumentException("this pipeline has no ControlNet; control images need a"
                        + " ControlNet pipeline (" + howToGetOne + ")");
            }
            return null;
        }
        if (cp == null) {
            throw new IllegalArgumentException("a ControlNet pipeline needs a control image per net"
                    + " (GenerationParams.Builder.controlNet)");
        }
        int n = controlnet.size();
        if (cp.images().size() != n) {
            throw new IllegalArgumentException("ControlNet: " + cp.images().size() + " control image"
                    + (cp.images().size() == 1 ? "" : "s") + " for " + n + " ControlNet" + (n == 1 ? "" : "s")
                    + " (give one per net)");
        }
        float[] scales = perNet("controlnet_conditioning_scale", cp.conditioningScale() == null
                ? new float[] {defaultScale} : cp.conditioningScale(), n);
        float[] start = perNet("control_guidance_start", cp.guidanceStart(), n);
        float[] end = perNet("control_guidance_end", cp.guidanceEnd(), n);
        List<dev.pagoda.tensor.Tensor> images = new java.util.ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            BufferedImage img = cp.images().get(k);
            if (!cp.resize() && (img.getWidth() != w || img.getHeight() != h)) {
                throw new IllegalArgumentException("ControlNet: control image " + k + " is " + img.getWidth() + "x"
                        + img.getHeight() + " but the generation size is " + w + "x" + h + " and resizing is off");
            }
            images.add(dev.pagoda.diffusion.image.ImageTensors.toControlTensor(img, h, w));
        }
        if (noGuessMode != null && cp.guessMode()) {
            throw new IllegalArgumentException("ControlNet: guessMode (guess_mode): diffusers' " + noGuessMode
                    + " has no guess mode");
        }
        // diffusers: guess_mode = guess_mode or global_pool_conditions (of the first net)
        boolean guess = noGuessMode == null
                && (cp.guessMode() || controlnet.nets().get(0).config().globalPoolConditions());
        return dev.pagoda.diffusion.controlnet.ControlNetConditioning.prepare(controlnet, images, scales, start, end,
                guess, batch, device);
    }
}
