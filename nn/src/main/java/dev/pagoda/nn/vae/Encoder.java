package dev.pagoda.nn.vae;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.tensor.Tensor;

/** diffusers' VAE {@code Encoder}: image → 2·latent channels (mean and log-variance), /2^(n-1) in size. */
public final class Encoder extends Module {

    private final Conv2d convIn;
    private final ModuleList<VaeBlocks.DownEncoderBlock> downBlocks;
    private final VaeBlocks.MidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    Encoder(VaeConfig c) {
        int[] ch = c.blockOutChannels();
        int groups = c.normNumGroups();
        this.convIn = child("conv_in", new Conv2d(c.inChannels(), ch[0], 3, 1, 1));
        this.downBlocks = child("down_blocks", new ModuleList<>());
        int out = ch[0];
        for (int i = 0; i < ch.length; i++) {
            int in = out;
            out = ch[i];
            downBlocks.add(new VaeBlocks.DownEncoderBlock(in, out, c.layersPerBlock(), groups, i < ch.length - 1));
        }
        this.midBlock = child("mid_block", new VaeBlocks.MidBlock(out, groups, c.midBlockAddAttention()));
        this.convNormOut = child("conv_norm_out", new GroupNorm(groups, out, VaeBlocks.EPS));
        this.convOut = child("conv_out", new Conv2d(out, 2 * c.latentChannels(), 3, 1, 1));
    }

    public Tensor forward(Tensor x) {
        Tensor h = convIn.forward(x);
        for (VaeBlocks.DownEncoderBlock b : downBlocks.items()) {
            h = b.forward(h);
        }
        h = midBlock.forward(h);
        return convOut.forward(convNormOut.forwardSilu(h));
    }
}
