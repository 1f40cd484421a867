package dev.pagoda.nn.unet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code ResnetBlock2D} ("default" time-embedding mode): GroupNorm+SiLU, conv 3×3, plus the
 * projected time embedding, GroupNorm+SiLU, conv 3×3, added to the (1×1-projected when the width
 * changes) input. The VAE uses it without a time embedding.
 */
public final class ResnetBlock2D extends Module {

    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;

    /** @param tembChannels width of the time embedding, or 0 for none (VAE) */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, float eps) {
        this.norm1 = child("norm1", new GroupNorm(groups, in, eps));
        this.conv1 = child("conv1", new Conv2d(in, out, 3, 1, 1));
        this.timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, out, true)) : null;
        this.norm2 = child("norm2", new GroupNorm(groups, out, eps));
        this.conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1));
        this.convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0)) : null;
    }

    /**
     * @param x       {@code [B, in, H, W]}
     * @param tembAct the SiLU-activated time embedding {@code [B, temb]} (shared by every resnet of a
     *                forward pass), or null without one
     */
    public Tensor forward(Tensor x, Tensor tembAct) {
        var be = x.backend();
        Tensor h = conv1.forward(norm1.forwardSilu(x));
        if (timeEmbProj != null) {
            Tensor t = timeEmbProj.forward(tembAct);
            h = be.add(h, t.reshape(t.dim(0), t.dim(1), 1, 1));
        }
        h = conv2.forward(norm2.forwardSilu(h));
        Tensor shortcut = convShortcut == null ? x : convShortcut.forward(x);
        return be.add(shortcut, h);
    }
}
