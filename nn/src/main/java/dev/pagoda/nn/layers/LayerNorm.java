package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.LayerNorm} over the last dimension, with or without affine parameters. */
public final class LayerNorm extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm(int dim, float eps, boolean affine) {
        this.eps = eps;
        this.weight = affine ? param("weight", dim) : null;
        this.bias = affine ? param("bias", dim) : null;
    }

    public LayerNorm(int dim, float eps) {
        this(dim, eps, true);
    }

    public Tensor forward(Tensor x) {
        return x.backend().layerNorm(x, weight == null ? null : weight.get(), bias == null ? null : bias.get(), eps);
    }
}
