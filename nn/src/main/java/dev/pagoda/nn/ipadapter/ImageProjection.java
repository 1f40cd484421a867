package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code ImageProjection} (plain IP-Adapter): one linear layer from the CLIP image
 * embedding to {@code tokens} cross-attention tokens, then a layer norm over each token.
 */
public final class ImageProjection extends Module implements ImageProjector {

    private final Linear imageEmbeds;
    private final LayerNorm norm;
    private final int inputDim;
    private final int tokens;
    private final int crossDim;

    public ImageProjection(int imageEmbedDim, int crossAttentionDim, int numImageTextEmbeds) {
        this.imageEmbeds = child("image_embeds", new Linear(imageEmbedDim, numImageTextEmbeds * crossAttentionDim, true));
        this.norm = child("norm", new LayerNorm(crossAttentionDim, 1e-5f));
        this.inputDim = imageEmbedDim;
        this.tokens = numImageTextEmbeds;
        this.crossDim = crossAttentionDim;
    }

    @Override
    public Tensor project(Tensor embeds) {
        if (embeds.rank() != 2 || embeds.dim(1) != inputDim) {
            throw new IllegalArgumentException("IP-Adapter image projection: image embeds must be [N, " + inputDim
                    + "], got " + Shapes.str(embeds.shape()));
        }
        return norm.forward(imageEmbeds.forward(embeds).reshape(embeds.dim(0), tokens, crossDim));
    }

    @Override
    public boolean usesHiddenStates() {
        return false;
    }

    @Override
    public int inputDim() {
        return inputDim;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    @Override
    public int crossAttentionDim() {
        return crossDim;
    }
}
