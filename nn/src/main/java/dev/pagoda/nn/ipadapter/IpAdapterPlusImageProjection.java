package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code IPAdapterPlusImageProjection}, the Resampler of IP-Adapter plus: learned query
 * {@code latents} attend (perceiver style, over [image tokens, latents]) to the projected CLIP hidden
 * states through {@code depth} blocks, then {@code proj_out} and {@code norm_out}.
 */
public final class IpAdapterPlusImageProjection extends Module implements ImageProjector {

    private final Parameter latents;
    private final Linear projIn;
    private final Linear projOut;
    private final LayerNorm normOut;
    private final ModuleList<Block> layers;
    private final int embedDims;
    private final int outputDims;
    private final int queries;

    /**
     * @param embedDims  channels of the image encoder's hidden states
     * @param outputDims the UNet's cross-attention dim
     * @param hiddenDims the Resampler's width
     * @param depth      number of blocks
     * @param dimHead    channels per head (64 in every published adapter)
     * @param heads      heads
     * @param numQueries image tokens produced
     * @param ffnRatio   feed-forward expansion
     */
    public IpAdapterPlusImageProjection(int embedDims, int outputDims, int hiddenDims, int depth, int dimHead,
            int heads, int numQueries, int ffnRatio) {
        this.latents = param("latents", 1, numQueries, hiddenDims);
        this.projIn = child("proj_in", new Linear(embedDims, hiddenDims, true));
        this.projOut = child("proj_out", new Linear(hiddenDims, outputDims, true));
        this.normOut = child("norm_out", new LayerNorm(outputDims, 1e-5f));
        this.layers = child("layers", new ModuleList<>());
        for (int i = 0; i < depth; i++) {
            layers.add(new Block(hiddenDims, dimHead, heads, ffnRatio));
        }
        this.embedDims = embedDims;
        this.outputDims = outputDims;
        this.queries = numQueries;
    }

    @Override
    public Tensor project(Tensor x) {
        if (x.rank() != 3 || x.dim(2) != embedDims) {
            throw new IllegalArgumentException("IP-Adapter plus image projection: hidden states must be [N, T, "
                    + embedDims + "], got " + Shapes.str(x.shape()));
        }
        Backend be = x.backend();
        int n = x.dim(0);
        Tensor q = be.resident(latents.get());
        q = be.copy(q.expand(n, q.dim(1), q.dim(2)), dev.pagoda.tensor.DType.F32);
        Tensor h = projIn.forward(x);
        for (Block block : layers.items()) {
            q = block.forward(h, q);
        }
        return normOut.forward(projOut.forward(q));
    }

    @Override
    public boolean usesHiddenStates() {
        return true;
    }

    @Override
    public int inputDim() {
        return embedDims;
    }

    @Override
    public int tokens() {
        return queries;
    }

    @Override
    public int crossAttentionDim() {
        return outputDims;
    }

    /** {@code IPAdapterPlusImageProjectionBlock}: ln0/ln1, attention over [x, latents], LN + GELU FF. */
    static final class Block extends Module {
        private final LayerNorm ln0;
        private final LayerNorm ln1;
        private final PerceiverAttention attn;
        private final LayerNorm ffNorm;
        private final Linear ffIn;
        private final Linear ffOut;

        Block(int dim, int dimHead, int heads, int ffnRatio) {
            this.ln0 = child("ln0", new LayerNorm(dim, 1e-5f));
            this.ln1 = child("ln1", new LayerNorm(dim, 1e-5f));
            this.attn = child("attn", new PerceiverAttention(dim, dimHead, heads));
            // ff = Sequential(LayerNorm, FeedForward(gelu, bias=False)): ff.0, ff.1.net.{0.proj,2}
            ModuleList<Module> ff = child("ff", new ModuleList<>());
            this.ffNorm = ff.add(new LayerNorm(dim, 1e-5f));
            GeluFeedForward f = ff.add(new GeluFeedForward(dim, dim * ffnRatio));
            this.ffIn = f.in;
            this.ffOut = f.out;
        }

        Tensor forward(Tensor x, Tensor latents) {
            Backend be = x.backend();
            Tensor normed = ln1.forward(latents);
            Tensor kv = be.concat(1, ln0.forward(x), normed);
            Tensor h = be.add(attn.forward(normed, kv), latents);
            Tensor f = ffOut.forward(be.gelu(ffIn.forward(ffNorm.forward(h)), false));
            return be.add(f, h);
        }
    }

    /** diffusers' {@code Attention(query_dim, dim_head, heads, out_bias=False)} with no biases at all. */
    static final class PerceiverAttention extends Module {
        private final Linear toQ;
        private final Linear toK;
        private final Linear toV;
        private final Linear toOut;
        private final int heads;
        private final float scale;

        PerceiverAttention(int dim, int dimHead, int heads) {
            int inner = dimHead * heads;
            this.toQ = child("to_q", new Linear(dim, inner, false));
            this.toK = child("to_k", new Linear(dim, inner, false));
            this.toV = child("to_v", new Linear(dim, inner, false));
            ModuleList<Linear> out = child("to_out", new ModuleList<>());
            this.toOut = out.add(new Linear(inner, dim, false));
            this.heads = heads;
            this.scale = (float) (1.0 / Math.sqrt(dimHead));
        }

        Tensor forward(Tensor q, Tensor context) {
            Tensor a = q.backend().attention(toQ.forward(q), toK.forward(context), toV.forward(context), heads, scale,
                    null, null);
            return toOut.forward(a);
        }
    }

    /** {@code FeedForward(activation_fn="gelu", bias=False)}: net.0.proj, erf GELU, net.2. */
    static final class GeluFeedForward extends Module {
        final Linear in;
        final Linear out;

        GeluFeedForward(int dim, int inner) {
            ModuleList<Module> net = child("net", new ModuleList<>());
            Proj p = net.add(new Proj(dim, inner));
            this.in = p.proj;
            net.add(new Empty());
            this.out = net.add(new Linear(inner, dim, false));
        }

        static final class Proj extends Module {
            final Linear proj;

            Proj(int dim, int inner) {
                this.proj = child("proj", new Linear(dim, inner, false));
            }
        }

        /** Dropout's place in torch's numbering. */
        static final class Empty extends Module {
        }
    }
}
