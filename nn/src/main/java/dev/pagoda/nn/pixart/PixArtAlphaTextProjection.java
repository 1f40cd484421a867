package dev.pagoda.nn.pixart;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/** diffusers' {@code PixArtAlphaTextProjection} (caption projection): {@code linear_2(gelu_tanh(linear_1(x)))}. */
public final class PixArtAlphaTextProjection extends Module {

    private final Linear linear1;
    private final Linear linear2;

    public PixArtAlphaTextProjection(int in, int hidden) {
        this.linear1 = child("linear_1", new Linear(in, hidden, true));
        this.linear2 = child("linear_2", new Linear(hidden, hidden, true));
    }

    public Tensor forward(Tensor caption) {
        Tensor h = linear1.forward(caption);
        return linear2.forward(h.backend().gelu(h, true));
    }
}
