package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Tensor;

/**
 * What a pipeline call produced.
 *
 * @param latents final latents {@code [n, 4, H/8, W/8]} in pipeline (scaled) space
 * @param image   decoded images {@code [n, 3, H, W]} in about [-1, 1], or null for latent output
 */
public record GenerationResult(Tensor latents, Tensor image) {
}
