package dev.pagoda.nn.clip;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/** transformers' {@code CLIPEncoderLayer}: pre-LN self-attention and MLP, each with a residual. */
final class ClipEncoderLayer extends Module {

    private final SelfAttention selfAttn;
    private final LayerNorm layerNorm1;
    private final Mlp mlp;
    private final LayerNorm layerNorm2;

    ClipEncoderLayer(ClipTextConfig c) {
        this(c.hiddenSize(), c.numAttentionHeads(), c.intermediateSize(), c.hiddenAct().equals("quick_gelu"),
                c.layerNormEps());
    }

    /** The same layer for the vision tower, which has its own config type. */
    ClipEncoderLayer(int hidden, int heads, int intermediate, boolean quickGelu, float eps) {
        this.selfAttn = child("self_attn", new SelfAttention(hidden, heads));
        this.layerNorm1 = child("layer_norm1", new LayerNorm(hidden, eps));
        this.mlp = child("mlp", new Mlp(hidden, intermediate, quickGelu));
        this.layerNorm2 = child("layer_norm2", new LayerNorm(hidden, eps));
    }

    Tensor forward(Tensor x, Tensor mask) {
        var be = x.backend();
        Tensor h = be.add(x, selfAttn.forward(layerNorm1.forward(x), mask));
        return be.add(h, mlp.forward(layerNorm2.forward(h)));
    }

    /** {@code CLIPAttention}: q/k/v/out projections with biases. */
    static final class SelfAttention extends Module {
        private final Linear q;
        private final Linear k;
        private final Linear v;
        private final Linear out;
        private final int heads;
        private final float scale;

        SelfAttention(int dim, int heads) {
            this.k = child("k_proj", new Linear(dim, dim, true));
            this.v = child("v_proj", new Linear(dim, dim, true));
            this.q = child("q_proj", new Linear(dim, dim, true));
            this.out = child("out_proj", new Linear(dim, dim, true));
            this.heads = heads;
            this.scale = (float) Math.pow(dim / heads, -0.5);
        }

        Tensor forward(Tensor x, Tensor mask) {
            Tensor qs = q.forward(x);
            return out.forward(x.backend().attention(qs, k.forward(x), v.forward(x), heads, scale, mask, null));
        }
    }

    /** {@code CLIPMLP}: fc1, activation, fc2. */
    static final class Mlp extends Module {
        private final Linear fc1;
        private final Linear fc2;
        private final boolean quickGelu;

        Mlp(int dim, int inner, boolean quickGelu) {
            this.fc1 = child("fc1", new Linear(dim, inner, true));
            this.fc2 = child("fc2", new Linear(inner, dim, true));
            this.quickGelu = quickGelu;
        }

        Tensor forward(Tensor x) {
            Tensor h = fc1.forward(x);
            h = quickGelu ? h.backend().quickGelu(h) : h.backend().gelu(h, false);
            return fc2.forward(h);
        }
    }
}
