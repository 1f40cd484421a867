package dev.pagoda.nn.t5;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * The feed-forward of a T5 block ({@code DenseReluDense}): transformers' {@code T5DenseActDense}
 * ({@code wo(act(wi(x)))}, original T5 with ReLU) or, gated, {@code T5DenseGatedActDense}
 * ({@code wo(act(wi_0(x)) · wi_1(x))}, T5 v1.1 with the tanh GELU). No biases.
 */
final class T5DenseActDense extends Module {

    private final Linear wi;
    private final Linear wi0;
    private final Linear wi1;
    private final Linear wo;
    private final T5Config.Activation activation;

    T5DenseActDense(T5Config c) {
        if (c.gatedActivation()) {
            this.wi = null;
            this.wi0 = child("wi_0", new Linear(c.dModel(), c.dFf(), false));
            this.wi1 = child("wi_1", new Linear(c.dModel(), c.dFf(), false));
        } else {
            this.wi = child("wi", new Linear(c.dModel(), c.dFf(), false));
            this.wi0 = null;
            this.wi1 = null;
        }
        this.wo = child("wo", new Linear(c.dFf(), c.dModel(), false));
        this.activation = c.denseActivation();
    }

    Tensor forward(Tensor x) {
        var be = x.backend();
        Tensor h = wi != null ? activate(wi.forward(x)) : be.mul(activate(wi0.forward(x)), wi1.forward(x));
        return wo.forward(h);
    }

    private Tensor activate(Tensor x) {
        var be = x.backend();
        return switch (activation) {
            case RELU -> be.clamp(x, 0f, Float.POSITIVE_INFINITY);
            case GELU -> be.gelu(x, false);
            case GELU_TANH -> be.gelu(x, true);
            case SILU -> be.silu(x);
        };
    }
}
