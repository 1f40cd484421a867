package dev.pagoda.tensor.random;

import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * Where a pipeline gets its random tensors: every draw diffusers makes through
 * {@code randn_tensor(shape, generator)} (initial latents, VAE sampling, img2img and inpaint noise,
 * ancestral and SDE scheduler steps) is one call of {@link #next}, in the same order.
 *
 * <p>Implementations: a seeded {@link TorchGenerator} (same noise as diffusers with a CPU generator),
 * or a {@link NoiseReplay} of recorded tensors (golden cases, user-supplied latents).
 */
public interface NoiseSource {

    /** The next draw: a fresh contiguous F32 tensor of standard normals with the given shape. */
    Tensor next(int... shape);

    /** The seeded torch CPU generator. */
    static TorchGenerator seeded(long seed) {
        return new TorchGenerator(seed);
    }

    /** One generator per image of the batch (diffusers' list of generators). */
    static PerImageNoise perImage(List<? extends NoiseSource> perImage) {
        return new PerImageNoise(perImage);
    }

    /** Hands out {@code draws} in order, checking each requested shape. */
    static NoiseReplay replay(List<Tensor> draws) {
        return new NoiseReplay(draws);
    }

    /** Hands out {@code draws} in order, checking each requested shape (e.g. one user latent). */
    static NoiseReplay replay(Tensor... draws) {
        return new NoiseReplay(List.of(draws));
    }
}
