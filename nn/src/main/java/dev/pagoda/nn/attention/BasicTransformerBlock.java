package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code BasicTransformerBlock} (layer-norm type): self-attention, cross-attention and a
 * GEGLU feed-forward, each pre-normed and added to the residual stream.
 */
public final class BasicTransformerBlock extends Module {

    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final FeedForward ff;

    public BasicTransformerBlock(int dim, int heads, int dimHead, int crossDim) {
        this.norm1 = child("norm1", new LayerNorm(dim, 1e-5f));
        this.attn1 = child("attn1", Attention.transformer(dim, 0, heads, dimHead));
        this.norm2 = child("norm2", new LayerNorm(dim, 1e-5f));
        this.attn2 = child("attn2", Attention.transformer(dim, crossDim, heads, dimHead));
        this.norm3 = child("norm3", new LayerNorm(dim, 1e-5f));
        this.ff = child("ff", new FeedForward(dim, dim * 4));
    }

    /** {@code x[B, L, C]}, context {@code [B, Lk, crossDim]}; {@code pag} says whether attn1 is perturbed. */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag) {
        var be = x.backend();
        Tensor h = be.add(attn1.forward(norm1.forward(x), null, pag), x);
        h = be.add(attn2.forward(norm2.forward(h), context), h);
        return be.add(ff.forward(norm3.forward(h)), h);
    }
}
