package dev.pagoda.nn.unet;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.layers.GroupNorm;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * diffusers' {@code UNet2DConditionModel}: SDXL base/refiner, SD 1.5 and SD 2.x are configurations of
 * this one class (see {@link UNetConfig}). Inputs are NCHW latents; the conditioning rows follow the
 * pipeline's batch layout, and the last {@code perturbed} rows are PAG's perturbed branch.
 */
public final class UNet2DConditionModel extends Module {

    private final UNetConfig config;
    private final Conv2d convIn;
    private final TimestepEmbedding timeEmbedding;
    private final TimestepEmbedding addEmbedding;
    private final ModuleList<UNetBlocks.DownBlock> downBlocks;
    private final UNetBlocks.MidBlock midBlock;
    private final ModuleList<UNetBlocks.UpBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private volatile boolean forkPerturbedBranch = true;

    /**
     * Inputs of one forward pass.
     *
     * @param pag the call's PAG plan ({@link PagPlan#NONE} for none); its batch must be the sample's
     */
    public record Input(
            Tensor sample,
            float[] timesteps,
            Tensor encoderHiddenStates,
            Tensor textEmbeds,
            Tensor timeIds,
            PagPlan pag,
            List<Tensor> downResiduals,
            Tensor midResidual,
            IpAdapterPlan ipAdapter,
            ContextCache contextCache) {

        /** Without a cache of cross-attention projections: the context is projected at this call. */
        public Input(Tensor sample, float[] timesteps, Tensor encoderHiddenStates, Tensor textEmbeds, Tensor timeIds,
                PagPlan pag, List<Tensor> downResiduals, Tensor midResidual, IpAdapterPlan ipAdapter) {
            this(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, pag, downResiduals, midResidual,
                    ipAdapter, ContextCache.NONE);
        }

        /** Without IP-Adapter image conditioning. */
        public Input(Tensor sample, float[] timesteps, Tensor encoderHiddenStates, Tensor textEmbeds, Tensor timeIds,
                PagPlan pag, List<Tensor> downResiduals, Tensor midResidual) {
            this(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, pag, downResiduals, midResidual,
                    IpAdapterPlan.NONE);
        }

        /** A plain call: one timestep for the whole batch, no PAG rows, no ControlNet residuals. */
        public static Input of(Tensor sample, float timestep, Tensor encoderHiddenStates, Tensor textEmbeds,
                Tensor timeIds) {
            return new Input(sample, new float[] {timestep}, encoderHiddenStates, textEmbeds, timeIds, PagPlan.NONE,
                    null, null);
        }

        public Input withPag(PagPlan plan) {
            return new Input(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, plan, downResiduals,
                    midResidual, ipAdapter, contextCache);
        }

        /** The call's IP-Adapter image conditioning ({@link IpAdapterPlan#NONE} for none). */
        public Input withIpAdapter(IpAdapterPlan plan) {
            return new Input(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, pag, downResiduals,
                    midResidual, plan, contextCache);
        }

        public Input withResiduals(List<Tensor> down, Tensor mid) {
            return new Input(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, pag, down, mid, ipAdapter,
                    contextCache);
        }

        /**
         * The denoising loop's cache of cross-attention keys and values ({@link ContextCache#NONE} for
         * none): steps that pass the same context reuse the first step's projections.
         */
        public Input withContextCache(ContextCache cache) {
            return new Input(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, pag, downResiduals,
                    midResidual, ipAdapter, cache);
        }
    }

    public UNet2DConditionModel(UNetConfig c) {
        this.config = c;
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        int timeDim = ch[0] * 4;
        int groups = c.normNumGroups();
        float eps = c.normEps();
        this.convIn = child("conv_in", new Conv2d(c.inChannels(), ch[0], 3, 1, 1));
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(ch[0], timeDim));
        this.addEmbedding = c.textTime()
                ? child("add_embedding", new TimestepEmbedding(c.projectionClassEmbeddingsInputDim(), timeDim))
                : null;

        // Registration order as diffusers (down_blocks, up_blocks, then mid_block): named-module
        // order, and so the order PAG layer lists are reported in, follows it.
        this.downBlocks = child("down_blocks", new ModuleList<>());
        this.upBlocks = child("up_blocks", new ModuleList<>());
        UNetBlocks.addDownBlocks(c, downBlocks);
        this.midBlock = child("mid_block", UNetBlocks.midBlock(c));

        int prevOut = ch[n - 1];
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i;
            int upOut = ch[r];
            int upIn = ch[Math.max(r - 1, 0)];
            int tl = c.reverseTransformerLayersPerBlock() != null ? c.reverseTransformerLayersPerBlock()[i]
                    : c.transformerLayersPerBlock()[r];
            UNetBlocks.Attn attn = c.upBlockTypes().get(i).equals("CrossAttnUpBlock2D")
                    ? new UNetBlocks.Attn(c.numAttentionHeads()[r], tl, c.crossAttentionDim(), groups,
                            c.useLinearProjection())
                    : null;
            upBlocks.add(new UNetBlocks.UpBlock(upIn, prevOut, upOut, timeDim, c.layersPerBlock()[r] + 1, groups,
                    eps, attn, i < n - 1));
            prevOut = upOut;
        }
        this.convNormOut = child("conv_norm_out", new GroupNorm(groups, ch[0], eps));
        this.convOut = child("conv_out", new Conv2d(ch[0], c.outChannels(), 3, 1, 1));
    }

    /** Builds the architecture described by {@code unet/config.json} (weights not loaded). */
    public static UNet2DConditionModel fromConfig(Path configJson) {
        JsonConfig c = JsonConfig.read(configJson);
        return c.build(() -> new UNet2DConditionModel(UNetConfig.from(c)));
    }

    public UNetConfig config() {
        return config;
    }

    /** Number of ×2 downsamplings: latent H and W must be multiples of 2^this. */
    public int downsamplings() {
        return config.blockOutChannels().length - 1;
    }

    public Tensor forward(Input in) {
        return forward(in, null);
    }

    /**
     * Re-runs {@code in} checking every block's output (conv_in, each down block, mid block, each up
     * block, conv_out) and returns the name of the first holding a NaN or infinity, or null if none
     * does. For diagnosis after a non-finite prediction; the ordinary forward pays nothing for it.
     */
    public String firstNonFiniteBlock(Input in) {
        String[] found = new String[1];
        forward(in, (name, t) -> {
            if (found[0] == null && !allFinite(t)) {
                found[0] = name;
            }
            return found[0] != null;
        });
        return found[0];
    }

    /** Whether every element of {@code t} is finite. */
    public static boolean allFinite(Tensor t) {
        for (float v : t.toFloatArray()) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Sees each block's output; returns true to stop the pass there. */
    private interface BlockProbe {
        boolean stop(String block, Tensor output);
    }

    private Tensor forward(Input in, BlockProbe probe) {
        Tensor sample = in.sample();
        validate(in);
        Backend be = sample.backend();
        int b = sample.dim(0);

        // time embedding (+ SDXL's pooled-text and size conditioning)
        Tensor emb = TimeConditioning.embed(config, timeEmbedding, addEmbedding, be, in.timesteps(), b,
                in.textEmbeds(), in.timeIds());
        PagPlan pag = in.pag();
        UNetBlocks.Conditioning cond = new UNetBlocks.Conditioning(be.silu(emb), in.encoderHiddenStates(), pag,
                in.ipAdapter(), in.contextCache());

        // PAG's perturbed rows equal the cond rows until the first flagged layer: run the blocks
        // before it without them, then fork (copy the cond rows' activations and skips).
        int fork = forkPoint(in);
        int p = pag.perturbedRows();
        int keep = b - p;
        // the head blocks hold no perturbed module, so they run with no plan
        UNetBlocks.Conditioning head = fork < 0 ? cond : new UNetBlocks.Conditioning(
                cond.tembAct().narrow(0, 0, keep), cond.context().narrow(0, 0, keep), PagPlan.NONE,
                cond.ip().narrow(keep), cond.cache());
        Tensor h = convIn.forward(fork < 0 ? sample : sample.narrow(0, 0, keep));
        if (probe != null && probe.stop("conv_in", h)) {
            return null;
        }
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        for (int k = 0; k < downBlocks.size(); k++) {
            if (k == fork) {
                h = forkRows(h, p, skips);
            }
            h = downBlocks.get(k).forward(h, fork >= 0 && k < fork ? head : cond, skips);
            if (probe != null && probe.stop("down_blocks." + k, h)) {
                return null;
            }
        }
        if (fork == downBlocks.size()) {
            h = forkRows(h, p, skips);
        }
        if (in.downResiduals() != null) {
            if (in.downResiduals().size() != skips.size()) {
                throw new IllegalArgumentException("UNet: " + in.downResiduals().size()
                        + " down-block residuals given, the UNet has " + skips.size() + " skip connections");
            }
            for (int i = 0; i < skips.size(); i++) {
                skips.set(i, be.add(skips.get(i), in.downResiduals().get(i)));
            }
        }
        h = midBlock.forward(h, cond);
        if (in.midResidual() != null) {
            h = be.add(h, in.midResidual());
        }
        if (probe != null && probe.stop("mid_block", h)) {
            return null;
        }
        Deque<Tensor> stack = UNetBlocks.deque(skips);
        skips.clear();
        for (int k = 0; k < upBlocks.size(); k++) {
            h = upBlocks.get(k).forward(h, cond, stack);
            if (probe != null && probe.stop("up_blocks." + k, h)) {
                return null;
            }
        }
        Tensor out = convOut.forward(convNormOut.forwardSilu(h));
        if (probe != null) {
            probe.stop("conv_out", out);
        }
        return out;
    }

    /** Turns the branch fork of {@link #forward} off (tests compare it with the full batch). */
    void setForkPerturbedBranch(boolean on) {
        this.forkPerturbedBranch = on;
    }

    /**
     * Where the perturbed rows start to differ from the cond rows: the first down block with a
     * perturbed attention, the number of down blocks when only mid/up blocks are perturbed, or -1 for
     * no fork (no PAG, a perturbed module in the first block, or per-row timesteps that differ). The
     * plan guarantees the perturbed rows' inputs copy the cond rows', so no tensor is compared.
     */
    private int forkPoint(Input in) {
        PagPlan pag = in.pag();
        int p = pag.perturbedRows();
        if (!forkPerturbedBranch || pag.isEmpty()) {
            return -1;
        }
        float[] ts = in.timesteps();
        if (ts.length != 1) {
            int b = ts.length;
            for (int i = 0; i < p; i++) {
                if (Float.floatToRawIntBits(ts[b - p + i]) != Float.floatToRawIntBits(ts[b - 2 * p + i])) {
                    return -1;
                }
            }
        }
        for (int k = 0; k < downBlocks.size(); k++) {
            if (pag.perturbsAnyIn(downBlocks.get(k))) {
                return k == 0 ? -1 : k;
            }
        }
        return downBlocks.size();
    }

    /** Appends copies of the last {@code p} rows of {@code h} and of every skip. */
    private static Tensor forkRows(Tensor h, int p, List<Tensor> skips) {
        for (int i = 0; i < skips.size(); i++) {
            Tensor s = skips.get(i);
            skips.set(i, s == h ? null : s.backend().concat(0, s, s.narrow(0, s.dim(0) - p, p)));
        }
        Tensor forked = h.backend().concat(0, h, h.narrow(0, h.dim(0) - p, p));
        skips.replaceAll(s -> s == null ? forked : s);
        return forked;
    }

    private void validate(Input in) {
        Tensor s = in.sample();
        if (s.rank() != 4 || s.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet: sample must be [B, " + config.inChannels() + ", H, W], got "
                    + Shapes.str(s.shape()));
        }
        int factor = 1 << downsamplings();
        if (s.dim(2) % factor != 0 || s.dim(3) % factor != 0) {
            throw new IllegalArgumentException("UNet: latent height and width must be multiples of " + factor
                    + " (image multiples of " + factor * 8 + "), got " + s.dim(2) + "x" + s.dim(3));
        }
        TimeConditioning.validate("UNet", config, s.dim(0), in.timesteps(), in.encoderHiddenStates(),
                in.textEmbeds(), in.timeIds());
        int b = s.dim(0);
        if (in.pag() == null) {
            throw new IllegalArgumentException("UNet: the PAG plan must not be null (PagPlan.NONE for none)");
        }
        if (in.ipAdapter() == null) {
            throw new IllegalArgumentException("UNet: the IP-Adapter plan must not be null (IpAdapterPlan.NONE for none)");
        }
        for (IpAdapterPlan.Adapter a : in.ipAdapter().adapters()) {
            Tensor t = a.tokens();
            if (t.rank() != 3 || t.dim(0) != b || t.dim(2) != config.crossAttentionDim()) {
                throw new IllegalArgumentException("UNet: IP-Adapter image tokens must be [" + b + ", N, "
                        + config.crossAttentionDim() + "], got " + Shapes.str(t.shape()));
            }
        }
        if (!in.pag().isEmpty() && in.pag().batch() != b) {
            throw new IllegalArgumentException("UNet: PAG plan for a batch of " + in.pag().batch() + " with a batch of "
                    + b);
        }
    }
}
