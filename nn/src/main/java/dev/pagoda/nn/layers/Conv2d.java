package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.Conv2d} with square kernel, stride and zero padding. */
public final class Conv2d extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int stride;
    private final int padding;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias) {
        this.weight = param("weight", out, in, kernel, kernel);
        this.bias = bias ? param("bias", out) : null;
        this.stride = stride;
        this.padding = padding;
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, true);
    }

    public Tensor forward(Tensor x) {
        return x.backend().conv2d(x, weight.get(), bias == null ? null : bias.get(), stride, padding, 1);
    }
}
