package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code Attention} with its default processor: {@code to_q}, {@code to_k}, {@code to_v},
 * {@code to_out.0}, multi-head scaled-dot-product attention. The VAE variant adds a
 * {@code group_norm} over NCHW input and a residual connection.
 *
 * <p><b>PAG.</b> A self-attention module perturbed by the call's {@link PagPlan} passes the plan's
 * identity rows to the attention kernel ({@code Backend.attention(..., identityRows)}): those rows
 * get {@code to_out(to_v(x))}, the attention map replaced by the identity, and the others ordinary
 * attention. This is diffusers' {@code PAGCFGIdentitySelfAttnProcessor2_0} (perturbed = last third)
 * and {@code PAGIdentitySelfAttnProcessor2_0} (perturbed = second half). The module itself holds no
 * PAG state, so concurrent calls with different plans share it safely.
 */
public final class Attention extends Module {

    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final GroupNorm groupNorm;
    private final int heads;
    private final int dimHead;
    private final float scale;
    private final boolean crossAttention;
    private final boolean residual;

    /**
     * @param queryDim  channels of the input
     * @param crossDim  channels of the context, or 0 for self-attention
     * @param heads     number of heads
     * @param dimHead   channels per head
     * @param qkvBias   whether to_q/to_k/to_v have biases
     * @param normGroups groups of the VAE-style input group norm, or 0 for none
     * @param normEps   epsilon of that group norm
     */
    public Attention(int queryDim, int crossDim, int heads, int dimHead, boolean qkvBias, int normGroups,
            float normEps) {
        int inner = heads * dimHead;
        int kvDim = crossDim > 0 ? crossDim : queryDim;
        this.groupNorm = normGroups > 0 ? child("group_norm", new GroupNorm(normGroups, queryDim, normEps)) : null;
        this.toQ = child("to_q", new Linear(queryDim, inner, qkvBias));
        this.toK = child("to_k", new Linear(kvDim, inner, qkvBias));
        this.toV = child("to_v", new Linear(kvDim, inner, qkvBias));
        ModuleList<Linear> out = child("to_out", new ModuleList<>());
        this.toOut = out.add(new Linear(inner, queryDim, true));
        this.heads = heads;
        this.dimHead = dimHead;
        this.scale = (float) (1.0 / Math.sqrt(dimHead));
        this.crossAttention = crossDim > 0;
        this.residual = normGroups > 0;
    }

    /** UNet transformer attention: no q/k/v bias, no group norm. */
    public static Attention transformer(int queryDim, int crossDim, int heads, int dimHead) {
        return new Attention(queryDim, crossDim, heads, dimHead, false, 0, 0f);
    }

    public boolean isCrossAttention() {
        return crossAttention;
    }

    public int heads() {
        return heads;
    }

    /** The softmax scale, 1/sqrt(head dim). */
    public float scale() {
        return scale;
    }

    /** Attention over tokens: {@code x[B, L, C]}, context {@code [B, Lk, Ck]} or null for self-attention. */
    public Tensor forward(Tensor x, Tensor context) {
        return forward(x, context, PagPlan.NONE);
    }

    /**
     * As {@link #forward(Tensor, Tensor)}, with the rows {@code pag} perturbs for this module (if any)
     * taking the identity path. The queries and keys of perturbed rows are computed with the batch but
     * never read by the kernel.
     */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag) {
        return forward(x, context, null, pag);
    }

    /**
     * As {@link #forward(Tensor, Tensor, PagPlan)} with an additive attention mask broadcastable to
     * {@code [B, heads, Lq, Lk]} (PixArt's cross-attention: {@code [B, 1, 1, Lk]} holding 0 or −10000
     * per text token), or null.
     */
    public Tensor forward(Tensor x, Tensor context, Tensor mask, PagPlan pag) {
        boolean[] identity = context == null ? pag.identityRows(this, x.dim(0)) : null;
        return project(attend(x, context, mask, identity, ContextCache.NONE));
    }

    /**
     * As {@link #forward(Tensor, Tensor, PagPlan)}; a cross-attention module covered by {@code ip}
     * adds the adapters' image-prompt attention before {@code to_out} (diffusers'
     * {@code IPAdapterAttnProcessor2_0}). Self-attention ignores {@code ip}.
     */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip) {
        return forward(x, context, pag, ip, ContextCache.NONE);
    }

    /**
     * As {@link #forward(Tensor, Tensor, PagPlan, IpAdapterPlan)}; a cross-attention module takes its
     * context's keys and values from the call's {@code cache} when an earlier step projected them.
     */
    public Tensor forward(Tensor x, Tensor context, PagPlan pag, IpAdapterPlan ip, ContextCache cache) {
        if (context == null) {
            return project(attend(x, null, null, pag.identityRows(this, x.dim(0)), cache));
        }
        if (!ip.covers(this)) {
            return project(attend(x, context, null, null, cache));
        }
        Tensor q = toQ.forward(x);
        Tensor[] kv = cache.keysValues(this, toK, toV, context);
        Tensor h = x.backend().attention(q, kv[0], kv[1], heads, scale, null, null);
        Tensor withImage = ip.addTo(this, q, h);
        q.release();
        if (withImage != h) { // every adapter at scale 0 leaves h as it is
            h.release();
        }
        return project(withImage);
    }

    /** {@code to_out} of the attention output, which is released once projected. */
    private Tensor project(Tensor attended) {
        Tensor y = toOut.forward(attended);
        attended.release();
        return y;
    }

    private Tensor attend(Tensor x, Tensor context, Tensor mask, boolean[] identityRows, ContextCache cache) {
        Tensor q = toQ.forward(x);
        // A context's keys and values may be the call's cached ones; only self-attention's are ours to release.
        Tensor[] kv = context == null ? new Tensor[] {toK.forward(x), toV.forward(x)}
                : cache.keysValues(this, toK, toV, context);
        Tensor h = x.backend().attention(q, kv[0], kv[1], heads, scale, mask, identityRows);
        q.release();
        if (context == null) {
            kv[0].release();
            kv[1].release();
        }
        return h;
    }

    /** VAE mid-block attention over an image {@code x[B, C, H, W]}: group norm, attention, residual. */
    public Tensor forwardImage(Tensor x) {
        int[] s = x.shape();
        int b = s[0];
        int c = s[1];
        int hw = s[2] * s[3];
        Tensor h = groupNorm == null ? x : groupNorm.forward(x);
        Tensor tokens = h.reshape(b, c, hw).transpose(1, 2);
        Tensor out = project(attend(tokens, null, null, null, ContextCache.NONE));
        if (h != x) {
            h.release();
        }
        Tensor img = out.transpose(1, 2).reshape(b, c, s[2], s[3]);
        if (!residual) {
            return img;
        }
        Tensor y = x.backend().add(img, x);
        out.release();
        return y;
    }
}
