package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.Linear}: {@code weight[out, in]}, optional {@code bias[out]}. */
public final class Linear extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", out, in);
        this.bias = bias ? param("bias", out) : null;
    }

    public Tensor forward(Tensor x) {
        return x.backend().linear(x, weight.get(), bias == null ? null : bias.get());
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }
}
