package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code Transformer2DModel} for continuous (image) input: group norm, projection in
 * (a linear layer for SDXL, a 1×1 convolution for SD 1.5), transformer blocks over the H·W tokens,
 * projection out, residual.
 */
public final class Transformer2DModel extends Module {

    private final GroupNorm norm;
    private final Module projIn;
    private final ModuleList<BasicTransformerBlock> blocks;
    private final Module projOut;
    private final boolean linearProjection;

    public Transformer2DModel(int channels, int heads, int dimHead, int layers, int crossDim, int groups,
            boolean linearProjection) {
        int inner = heads * dimHead;
        this.linearProjection = linearProjection;
        this.norm = child("norm", new GroupNorm(groups, channels, 1e-6f));
        this.projIn = child("proj_in", linearProjection ? new Linear(channels, inner, true)
                : new Conv2d(channels, inner, 1, 1, 0));
        this.blocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < layers; i++) {
            blocks.add(new BasicTransformerBlock(inner, heads, dimHead, crossDim));
        }
        this.projOut = child("proj_out", linearProjection ? new Linear(inner, channels, true)
                : new Conv2d(inner, channels, 1, 1, 0));
    }

    public Tensor forward(Tensor x, Tensor context, PagPlan pag) {
        return forward(x, context, pag, IpAdapterPlan.NONE);
    }

    /** As above, with the call's IP-Adapter image conditioning for the blocks' cross-attention. */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip) {
        return forward(x, context, pag, ip, ContextCache.NONE);
    }

    /** As above, with the call's cache of cross-attention keys and values (see {@link ContextCache}). */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip, ContextCache cache) {
        int b = x.dim(0);
        int h = x.dim(2);
        int w = x.dim(3);
        // Every tensor made here is released once consumed (see Tensor.release); a view shares its
        // source's array, so a view and its source are released together, never one before the
        // other is used up. x belongs to the caller.
        Tensor n = norm.forward(x);
        Tensor tokens;
        if (linearProjection) {
            Tensor t = toTokens(n);
            tokens = ((Linear) projIn).forward(t);
            t.release();
        } else {
            tokens = toTokens(((Conv2d) projIn).forward(n));
        }
        n.release();
        for (BasicTransformerBlock block : blocks.items()) {
            Tensor next = block.forward(tokens, context, pag, ip, cache);
            tokens.release();
            tokens = next;
        }
        Tensor out;
        if (linearProjection) {
            Tensor projected = ((Linear) projOut).forward(tokens);
            out = toImage(projected, b, h, w);
            if (out.storage() != projected.storage()) {
                projected.release();
            }
        } else {
            Tensor img = toImage(tokens, b, h, w);
            out = ((Conv2d) projOut).forward(img);
            img.release();
        }
        tokens.release();
        Tensor y = out.backend().add(out, x);
        out.release();
        return y;
    }

    private static Tensor toTokens(Tensor img) {
        int[] s = img.shape();
        return img.permute(0, 2, 3, 1).reshape(s[0], s[2] * s[3], s[1]);
    }

    private static Tensor toImage(Tensor tokens, int b, int h, int w) {
        int c = tokens.dim(2);
        return tokens.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous();
    }

    public ModuleList<BasicTransformerBlock> blocks() {
        return blocks;
    }
}
