package dev.pagoda.nn.controlnet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code ControlNetConditioningEmbedding}: a small conv net taking the control image to
 * the latents' resolution and the first block's width. {@code conv_in}, then per width step a
 * same-size conv and a stride-2 conv, each followed by SiLU; {@code conv_out} (zero-initialised in
 * training) has no activation.
 */
public final class ControlNetConditioningEmbedding extends Module {

    private final Conv2d convIn;
    private final ModuleList<Conv2d> blocks;
    private final Conv2d convOut;

    public ControlNetConditioningEmbedding(int embeddingChannels, int conditioningChannels, int[] outChannels) {
        this.convIn = child("conv_in", new Conv2d(conditioningChannels, outChannels[0], 3, 1, 1));
        this.blocks = child("blocks", new ModuleList<>());
        for (int i = 0; i < outChannels.length - 1; i++) {
            blocks.add(new Conv2d(outChannels[i], outChannels[i], 3, 1, 1));
            blocks.add(new Conv2d(outChannels[i], outChannels[i + 1], 3, 2, 1));
        }
        this.convOut = child("conv_out", new Conv2d(outChannels[outChannels.length - 1], embeddingChannels, 3, 1, 1));
    }

    public Tensor forward(Tensor cond) {
        Backend be = cond.backend();
        Tensor h = be.silu(convIn.forward(cond));
        for (Conv2d block : blocks.items()) {
            h = be.silu(block.forward(h));
        }
        return convOut.forward(h);
    }
}
