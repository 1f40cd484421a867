package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.GroupNorm} with affine parameters; {@link #forwardSilu} fuses the SiLU that follows it in resnets. */
public final class GroupNorm extends Module {

    private final Parameter weight;
    private final Parameter bias;
    private final int groups;
    private final float eps;

    public GroupNorm(int groups, int channels, float eps) {
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels are not divisible into "
                    + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        this.weight = param("weight", channels);
        this.bias = param("bias", channels);
    }

    public Tensor forward(Tensor x) {
        return x.backend().groupNorm(x, groups, weight.get(), bias.get(), eps, false);
    }

    public Tensor forwardSilu(Tensor x) {
        return x.backend().groupNorm(x, groups, weight.get(), bias.get(), eps, true);
    }
}
