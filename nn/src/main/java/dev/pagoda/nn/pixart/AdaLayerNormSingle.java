package dev.pagoda.nn.pixart;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.nn.unet.TimestepEmbedding;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code AdaLayerNormSingle} (adaLN-single of PixArt-α): the timestep's 256-channel
 * sinusoidal embedding ({@code flip_sin_to_cos}, no shift) through {@code emb.timestep_embedder},
 * plus, with {@code use_additional_conditions}, the embedded resolution (height, width) and aspect
 * ratio (each a third of the width); then {@code linear(silu(·))} gives the six modulation vectors
 * every block shares.
 */
public final class AdaLayerNormSingle extends Module {

    /** The modulation {@code [B, 6·dim]} and the embedded timestep {@code [B, dim]} (final layer). */
    public record Output(Tensor modulation, Tensor embeddedTimestep) {
    }

    private final Embeddings emb;
    private final Linear linear;
    private final int dim;

    public AdaLayerNormSingle(int dim, boolean useAdditionalConditions) {
        this.emb = child("emb", new Embeddings(dim, useAdditionalConditions));
        this.linear = child("linear", new Linear(dim, 6 * dim, true));
        this.dim = dim;
    }

    public boolean usesAdditionalConditions() {
        return emb.resolutionEmbedder != null;
    }

    /**
     * @param timesteps   one value per batch row
     * @param resolution  {@code [B, 2]} (height, width) when the model uses additional conditions, else ignored
     * @param aspectRatio {@code [B, 1]} likewise
     * @param device      the backend of the weights
     */
    public Output forward(float[] timesteps, Tensor resolution, Tensor aspectRatio, Backend device) {
        int b = timesteps.length;
        Tensor tProj = device.timestepEmbedding(device.resident(Tensor.of(timesteps.clone(), b)), 256, true, 0f, 1f,
                10000);
        Tensor conditioning = emb.timestepEmbedder.forward(tProj);
        if (emb.resolutionEmbedder != null) {
            if (resolution == null || aspectRatio == null) {
                throw new IllegalArgumentException("PixArt transformer: this model uses additional conditions"
                        + " (use_additional_conditions): resolution [B, 2] and aspect_ratio [B, 1] are required");
            }
            if (resolution.numel() != 2L * b || aspectRatio.numel() != b) {
                throw new IllegalArgumentException("PixArt transformer: resolution must be [" + b + ", 2] and aspect_ratio ["
                        + b + ", 1], got " + Shapes.str(resolution.shape()) + " and " + Shapes.str(aspectRatio.shape()));
            }
            Tensor res = emb.resolutionEmbedder.forward(device.timestepEmbedding(device.resident(
                    resolution.contiguous().reshape(2 * b)), 256, true, 0f, 1f, 10000)).reshape(b, -1);
            Tensor ar = emb.aspectRatioEmbedder.forward(device.timestepEmbedding(device.resident(
                    aspectRatio.contiguous().reshape(b)), 256, true, 0f, 1f, 10000)).reshape(b, -1);
            conditioning = device.add(conditioning, device.concat(1, res, ar));
        }
        Tensor mod = linear.forward(device.silu(conditioning));
        return new Output(mod, conditioning);
    }

    int dim() {
        return dim;
    }

    /** {@code PixArtAlphaCombinedTimestepSizeEmbeddings}. */
    static final class Embeddings extends Module {
        final TimestepEmbedding timestepEmbedder;
        final TimestepEmbedding resolutionEmbedder;
        final TimestepEmbedding aspectRatioEmbedder;

        Embeddings(int dim, boolean additional) {
            this.timestepEmbedder = child("timestep_embedder", new TimestepEmbedding(256, dim));
            this.resolutionEmbedder = additional ? child("resolution_embedder", new TimestepEmbedding(256, dim / 3))
                    : null;
            this.aspectRatioEmbedder = additional ? child("aspect_ratio_embedder", new TimestepEmbedding(256, dim / 3))
                    : null;
        }
    }
}
