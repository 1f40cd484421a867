package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code BasicTransformerBlock}: self-attention, cross-attention and a feed-forward,
 * each added to the residual stream. Two of diffusers' norm types:
 * <ul>
 * <li>{@code layer_norm} (UNets): each sub-layer pre-normed by its own affine LayerNorm
 *     ({@code norm1}, {@code norm2}, {@code norm3}); GEGLU feed-forward.</li>
 * <li>{@code ada_norm_single} (PixArt): the call's timestep modulation {@code [B, 6·dim]} plus the
 *     block's {@code scale_shift_table[6, dim]} give shift, scale and gate for the self-attention and
 *     the feed-forward; {@code norm1} before attention, cross-attention un-normed and masked,
 *     {@code norm2} before the feed-forward; no {@code norm3}.</li>
 * </ul>
 */
public final class BasicTransformerBlock extends Module {

    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final FeedForward ff;
    private final Parameter scaleShiftTable;
    private final int dim;

    /** The UNet block ({@code layer_norm}, no attention biases, GEGLU). */
    public BasicTransformerBlock(int dim, int heads, int dimHead, int crossDim) {
        this.dim = dim;
        this.norm1 = child("norm1", new LayerNorm(dim, 1e-5f));
        this.attn1 = child("attn1", Attention.transformer(dim, 0, heads, dimHead));
        this.norm2 = child("norm2", new LayerNorm(dim, 1e-5f));
        this.attn2 = child("attn2", Attention.transformer(dim, crossDim, heads, dimHead));
        this.norm3 = child("norm3", new LayerNorm(dim, 1e-5f));
        this.ff = child("ff", new FeedForward(dim, dim * 4));
        this.scaleShiftTable = null;
    }

    private BasicTransformerBlock(int dim, int heads, int dimHead, int crossDim, boolean bias,
            FeedForward.Activation act, boolean affine, float eps) {
        this.dim = dim;
        this.norm1 = child("norm1", new LayerNorm(dim, eps, affine));
        this.attn1 = child("attn1", new Attention(dim, 0, heads, dimHead, bias, 0, 0f));
        this.norm2 = child("norm2", new LayerNorm(dim, eps, affine));
        this.attn2 = child("attn2", new Attention(dim, crossDim, heads, dimHead, bias, 0, 0f));
        this.norm3 = null;
        this.ff = child("ff", new FeedForward(dim, dim * 4, act));
        this.scaleShiftTable = param("scale_shift_table", 6, dim);
    }

    /** The PixArt block ({@code norm_type="ada_norm_single"}). */
    public static BasicTransformerBlock adaNormSingle(int dim, int heads, int dimHead, int crossDim,
            boolean attentionBias, FeedForward.Activation activation, boolean normAffine, float normEps) {
        return new BasicTransformerBlock(dim, heads, dimHead, crossDim, attentionBias, activation, normAffine, normEps);
    }

    public Attention attn1() {
        return attn1;
    }

    public Attention attn2() {
        return attn2;
    }

    /** {@code x[B, L, C]}, context {@code [B, Lk, crossDim]}; {@code pag} says whether attn1 is perturbed. */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag) {
        return forward(x, context, pag, IpAdapterPlan.NONE);
    }

    /** As above; {@code ip} adds the IP-Adapter image attention to attn2 (PAG touches attn1 only). */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip) {
        return forward(x, context, pag, ip, ContextCache.NONE);
    }

    /** As above, with the call's cache of cross-attention keys and values. */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip, ContextCache cache) {
        if (scaleShiftTable != null) {
            throw new IllegalStateException("an ada_norm_single block needs the timestep modulation: use "
                    + "forward(x, context, contextMask, timestep, pag)");
        }
        // Each intermediate is released once consumed, so the next output reuses its array (see
        // Tensor.release); x belongs to the caller.
        var be = x.backend();
        Tensor n = norm1.forward(x);
        Tensor a = attn1.forward(n, null, pag);
        n.release();
        Tensor h1 = be.add(a, x);
        a.release();
        n = norm2.forward(h1);
        a = attn2.forward(n, context, PagPlan.NONE, ip, cache);
        n.release();
        Tensor h2 = be.add(a, h1);
        a.release();
        h1.release();
        n = norm3.forward(h2);
        a = ff.forward(n);
        n.release();
        Tensor out = be.add(a, h2);
        a.release();
        h2.release();
        return out;
    }

    /**
     * The {@code ada_norm_single} block.
     *
     * @param x           tokens {@code [B, L, dim]}
     * @param context     text tokens {@code [B, Lk, crossDim]}
     * @param contextMask additive mask for the cross-attention broadcastable to {@code [B, heads, L, Lk]}, or null
     * @param timestep    the modulation {@code [B, 6·dim]} from {@code AdaLayerNormSingle}
     */
    public Tensor forward(Tensor x, Tensor context, Tensor contextMask, Tensor timestep, PagPlan pag) {
        if (scaleShiftTable == null) {
            throw new IllegalStateException("a layer_norm block takes no timestep modulation");
        }
        int b = x.dim(0);
        if (timestep.rank() != 2 || timestep.dim(0) != b || timestep.dim(1) != 6 * dim) {
            throw new IllegalArgumentException("ada_norm_single block: timestep modulation must be [" + b + ", "
                    + 6 * dim + "], got " + dev.pagoda.tensor.Shapes.str(timestep.shape()));
        }
        Backend be = x.backend();
        Tensor mod = be.add(scaleShiftTable.get().unsqueeze(0), timestep.reshape(b, 6, dim));
        Tensor shiftMsa = mod.narrow(1, 0, 1);
        Tensor scaleMsa = mod.narrow(1, 1, 1);
        Tensor gateMsa = mod.narrow(1, 2, 1);
        Tensor shiftMlp = mod.narrow(1, 3, 1);
        Tensor scaleMlp = mod.narrow(1, 4, 1);
        Tensor gateMlp = mod.narrow(1, 5, 1);

        Tensor n = modulate(be, norm1.forward(x), shiftMsa, scaleMsa);
        Tensor h = be.add(be.mul(gateMsa, attn1.forward(n, null, pag)), x);
        h = be.add(attn2.forward(h, context, contextMask, PagPlan.NONE), h);
        n = modulate(be, norm2.forward(h), shiftMlp, scaleMlp);
        return be.add(be.mul(gateMlp, ff.forward(n)), h);
    }

    /** {@code x·(1 + scale) + shift}, in torch's order of roundings. */
    static Tensor modulate(Backend be, Tensor x, Tensor shift, Tensor scale) {
        return be.add(be.mul(x, be.affine(scale, 1f, 1f)), shift);
    }
}
