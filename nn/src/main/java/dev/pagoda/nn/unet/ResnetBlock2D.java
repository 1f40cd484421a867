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
        // Intermediates are released once consumed (see Tensor.release); x belongs to the caller.
        var be = x.backend();
        Tensor n = norm1.forwardSilu(x);
        Tensor h = conv1.forward(n);
        n.release();
        if (timeEmbProj != null) {
            Tensor t = timeEmbProj.forward(tembAct);
            Tensor ht = be.add(h, t.reshape(t.dim(0), t.dim(1), 1, 1));
            h.release();
            h = ht;
        }
        n = norm2.forwardSilu(h);
        h.release();
        h = conv2.forward(n);
        n.release();
        Tensor shortcut = convShortcut == null ? x : convShortcut.forward(x);
        Tensor out = be.add(shortcut, h);
        h.release();
        if (shortcut != x) {
            shortcut.release();
        }
        return out;
    }
}
