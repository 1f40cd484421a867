package dev.pagoda.nn.t5;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** transformers' {@code T5LayerNorm}: RMS norm, no mean subtraction and no bias, {@code weight[d]}. */
final class T5LayerNorm extends Module {

    private final Parameter weight;
    private final float eps;

    T5LayerNorm(int dim, float eps) {
        this.weight = param("weight", dim);
        this.eps = eps;
    }

    Tensor forward(Tensor x) {
        return x.backend().rmsNorm(x, weight.get(), eps);
    }
}
