package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.tensor.Tensor;

/**
 * What a pipeline call produced: diffusers' {@code output_type} "latent" ({@link #latents}), "pt"
 * ({@link #image}) and "np" ({@link #numpy}); {@code ImageTensors.toImage} gives "pil".
 *
 * @param latents final latents {@code [n, 4, H/8, W/8]} in pipeline (scaled) space
 * @param image   decoded images {@code [n, 3, H, W]} in about [-1, 1], or null for latent output
 */
public record GenerationResult(Tensor latents, Tensor image) {

    /** The images as a float array tensor {@code [n, H, W, 3]} in [0, 1] (diffusers' "np"). */
    public Tensor numpy() {
        if (image == null) {
            throw new IllegalStateException("this call produced latents only (OutputType.LATENT)");
        }
        return ImageTensors.toNumpyLayout(image);
    }
}
