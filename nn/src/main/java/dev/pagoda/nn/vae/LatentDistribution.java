package dev.pagoda.nn.vae;

import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code DiagonalGaussianDistribution}: the encoder moments split into mean and
 * log-variance, log-variance clamped to [-30, 20].
 */
public record LatentDistribution(Tensor mean, Tensor logvar, Tensor std) {

    static LatentDistribution of(Tensor moments) {
        var be = moments.backend();
        Tensor[] parts = moments.chunk(2, 1);
        Tensor mean = parts[0].contiguous();
        Tensor logvar = be.clamp(parts[1], -30f, 20f);
        Tensor std = be.exp(be.affine(logvar, 0.5f, 0f));
        return new LatentDistribution(mean, logvar, std);
    }

    /** {@code mean + std · noise}. */
    public Tensor sample(Tensor noise) {
        var be = mean.backend();
        return be.add(mean, be.mul(std, noise));
    }

    /** The distribution's mode (its mean). */
    public Tensor mode() {
        return mean;
    }
}
