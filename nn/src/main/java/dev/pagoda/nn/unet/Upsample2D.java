package dev.pagoda.nn.unet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.tensor.Tensor;

/** diffusers' {@code Upsample2D} with a convolution: nearest ×2, then 3×3 padding 1. */
public final class Upsample2D extends Module {

    private final Conv2d conv;

    public Upsample2D(int channels) {
        this.conv = child("conv", new Conv2d(channels, channels, 3, 1, 1));
    }

    public Tensor forward(Tensor x) {
        Tensor up = x.backend().upsampleNearest2x(x);
        Tensor y = conv.forward(up);
        up.release();
        return y;
    }
}
