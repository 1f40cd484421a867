package dev.pagoda.nn.vae;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.tensor.Tensor;

/** diffusers' VAE {@code Decoder}: latent → image, ×2^(n-1) in size. */
public final class Decoder extends Module {

    private final Conv2d convIn;
    private final VaeBlocks.MidBlock midBlock;
    private final ModuleList<VaeBlocks.UpDecoderBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    Decoder(VaeConfig c) {
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        int groups = c.normNumGroups();
        this.convIn = child("conv_in", new Conv2d(c.latentChannels(), ch[n - 1], 3, 1, 1));
        this.midBlock = child("mid_block", new VaeBlocks.MidBlock(ch[n - 1], groups, c.midBlockAddAttention()));
        this.upBlocks = child("up_blocks", new ModuleList<>());
        int out = ch[n - 1];
        for (int i = 0; i < n; i++) {
            int prev = out;
            out = ch[n - 1 - i];
            upBlocks.add(new VaeBlocks.UpDecoderBlock(prev, out, c.layersPerBlock() + 1, groups, i < n - 1));
        }
        this.convNormOut = child("conv_norm_out", new GroupNorm(groups, ch[0], VaeBlocks.EPS));
        this.convOut = child("conv_out", new Conv2d(ch[0], c.outChannels(), 3, 1, 1));
    }

    public Tensor forward(Tensor z) {
        Tensor h = convIn.forward(z);
        h = midBlock.forward(h);
        for (VaeBlocks.UpDecoderBlock b : upBlocks.items()) {
            h = b.forward(h);
        }
        return convOut.forward(convNormOut.forwardSilu(h));
    }
}
