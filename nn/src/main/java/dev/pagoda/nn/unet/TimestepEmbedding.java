package dev.pagoda.nn.unet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/** diffusers' {@code TimestepEmbedding}: {@code linear_2(silu(linear_1(x)))}. */
public final class TimestepEmbedding extends Module {

    private final Linear linear1;
    private final Linear linear2;

    public TimestepEmbedding(int in, int dim) {
        this.linear1 = child("linear_1", new Linear(in, dim, true));
        this.linear2 = child("linear_2", new Linear(dim, dim, true));
    }

    public Tensor forward(Tensor x) {
        Tensor h = linear1.forward(x);
        return linear2.forward(h.backend().silu(h));
    }
}
