package dev.pagoda.nn.controlnet;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.unet.TimeConditioning;
import dev.pagoda.nn.unet.TimestepEmbedding;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.unet.UNetBlocks;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * diffusers' {@code ControlNetModel} ({@code models/controlnet.py}): a copy of the UNet's encoder half
 * that also sees a control image and returns, through zero-initialised 1×1 convs, one residual per
 * UNet skip connection and one for the mid block, scaled by {@code conditioning_scale}. Its attention
 * is never perturbed by PAG and carries no IP-Adapter, as in diffusers.
 */
public final class ControlNetModel extends Module implements AutoCloseable {

    private final ControlNetConfig config;
    private final Conv2d convIn;
    private final TimestepEmbedding timeEmbedding;
    private final TimestepEmbedding addEmbedding;
    private final ControlNetConditioningEmbedding condEmbedding;
    private final ModuleList<UNetBlocks.DownBlock> downBlocks;
    private final ModuleList<Conv2d> controlnetDownBlocks;
    private final UNetBlocks.MidBlock midBlock;
    private final Conv2d controlnetMidBlock;
    private volatile TensorStore store;
    private volatile boolean closed;

    /**
     * One forward pass.
     *
     * @param controlnetCond     the control image {@code [B, C, H·s, W·s]} in [0, 1], s = {@link ControlNetConfig#imageScale()}
     * @param conditioningScale  multiplies every residual (0 makes them all zero)
     * @param guessMode          scales the residuals by {@code logspace(-1, 0, n + 1)} from the
     *                           shallowest to the mid block, as diffusers' guess mode does
     */
    public record Input(
            Tensor sample,
            float[] timesteps,
            Tensor encoderHiddenStates,
            Tensor textEmbeds,
            Tensor timeIds,
            Tensor controlnetCond,
            float conditioningScale,
            boolean guessMode,
            ContextCache contextCache) {

        /** Without a cache of cross-attention projections: the context is projected at this call. */
        public Input(Tensor sample, float[] timesteps, Tensor encoderHiddenStates, Tensor textEmbeds, Tensor timeIds,
                Tensor controlnetCond, float conditioningScale, boolean guessMode) {
            this(sample, timesteps, encoderHiddenStates, textEmbeds, timeIds, controlnetCond, conditioningScale,
                    guessMode, ContextCache.NONE);
        }
    }

    /** The residuals for the UNet: one per skip connection (shallowest first) and the mid block's. */
    public record Output(List<Tensor> downResiduals, Tensor midResidual) {

        /** Element-wise sum with {@code other} (diffusers' {@code MultiControlNetModel}). */
        public Output plus(Output other) {
            Backend be = midResidual.backend();
            List<Tensor> down = new ArrayList<>(downResiduals.size());
            for (int i = 0; i < downResiduals.size(); i++) {
                down.add(be.add(downResiduals.get(i), other.downResiduals.get(i)));
            }
            return new Output(down, be.add(midResidual, other.midResidual));
        }
    }

    public ControlNetModel(ControlNetConfig config) {
        this.config = config;
        UNetConfig c = config.unet();
        int[] ch = c.blockOutChannels();
        int timeDim = UNetBlocks.timeDim(c);
        this.convIn = child("conv_in", new Conv2d(c.inChannels(), ch[0], 3, 1, 1));
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(ch[0], timeDim));
        this.addEmbedding = c.textTime()
                ? child("add_embedding", new TimestepEmbedding(c.projectionClassEmbeddingsInputDim(), timeDim))
                : null;
        this.condEmbedding = child("controlnet_cond_embedding", new ControlNetConditioningEmbedding(ch[0],
                config.conditioningChannels(), config.conditioningEmbeddingOutChannels()));
        this.downBlocks = child("down_blocks", new ModuleList<>());
        UNetBlocks.addDownBlocks(c, downBlocks);
        this.controlnetDownBlocks = child("controlnet_down_blocks", new ModuleList<>());
        for (int width : skipChannels(c)) {
            controlnetDownBlocks.add(new Conv2d(width, width, 1, 1, 0));
        }
        this.midBlock = child("mid_block", UNetBlocks.midBlock(c));
        this.controlnetMidBlock = child("controlnet_mid_block", new Conv2d(ch[ch.length - 1], ch[ch.length - 1], 1, 1,
                0));
    }

    /** The width of every UNet skip connection: conv_in's, then each down block's resnets and downsampler. */
    static List<Integer> skipChannels(UNetConfig c) {
        int[] ch = c.blockOutChannels();
        List<Integer> widths = new ArrayList<>();
        widths.add(ch[0]);
        for (int i = 0; i < ch.length; i++) {
            for (int l = 0; l < c.layersPerBlock()[i]; l++) {
                widths.add(ch[i]);
            }
            if (i < ch.length - 1) {
                widths.add(ch[i]);
            }
        }
        return widths;
    }

    /** Builds the architecture a ControlNet {@code config.json} describes (weights not loaded). */
    public static ControlNetModel fromConfig(Path configJson) {
        JsonConfig c = JsonConfig.read(configJson);
        return c.build(() -> new ControlNetModel(ControlNetConfig.from(c)));
    }

    /**
     * Loads a diffusers ControlNet folder: {@code config.json} and {@code diffusion_pytorch_model.safetensors}
     * (or its fp16 variant / a sharded index), memory-mapped in the stored dtype; every key must match.
     *
     * @throws dev.pagoda.nn.ConfigException    for an unreadable or unsupported config
     * @throws dev.pagoda.nn.WeightLoadException listing missing, unexpected and mis-shaped weights
     */
    public static ControlNetModel fromPretrained(Path folder, boolean preferFp16) {
        ControlNetModel m = fromConfig(folder.resolve("config.json"));
        TensorStore s = WeightFiles.open(folder, "diffusion_pytorch_model", preferFp16);
        try {
            WeightLoader.load(m, s, "", Set.of());
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        m.store = s;
        return m;
    }

    public ControlNetConfig config() {
        return config;
    }

    /**
     * Checks that this ControlNet can feed {@code unet}: same skip connections (widths and count),
     * same text conditioning width and the same addition embedding.
     *
     * @throws IllegalArgumentException naming the field that differs
     */
    public void checkCompatible(UNet2DConditionModel unet, String name) {
        UNetConfig mine = config.unet();
        UNetConfig theirs = unet.config();
        if (mine.crossAttentionDim() != theirs.crossAttentionDim()) {
            throw new IllegalArgumentException(name + ": cross_attention_dim " + mine.crossAttentionDim()
                    + " does not match the UNet's " + theirs.crossAttentionDim());
        }
        if (!mine.additionEmbedType().equals(theirs.additionEmbedType())
                || mine.projectionClassEmbeddingsInputDim() != theirs.projectionClassEmbeddingsInputDim()
                || mine.additionTimeEmbedDim() != theirs.additionTimeEmbedDim()) {
            throw new IllegalArgumentException(name + ": addition embedding (addition_embed_type \""
                    + mine.additionEmbedType() + "\", projection_class_embeddings_input_dim "
                    + mine.projectionClassEmbeddingsInputDim() + ", addition_time_embed_dim "
                    + mine.additionTimeEmbedDim() + ") does not match the UNet's (\"" + theirs.additionEmbedType()
                    + "\", " + theirs.projectionClassEmbeddingsInputDim() + ", " + theirs.additionTimeEmbedDim() + ")");
        }
        // a 9-channel inpainting UNet's nets see only its latent channels (diffusers' control_model_input is the
        // scaled latents, before the mask and masked-image latents are appended)
        boolean inpaintingUnet = theirs.inChannels() == 9 && mine.inChannels() == theirs.outChannels();
        if (mine.inChannels() != theirs.inChannels() && !inpaintingUnet
                || !skipChannels(mine).equals(skipChannels(theirs))) {
            throw new IllegalArgumentException(name + ": its blocks (in_channels " + mine.inChannels()
                    + ", skip widths " + skipChannels(mine) + ") do not match the UNet's (" + theirs.inChannels()
                    + ", " + skipChannels(theirs) + ")");
        }
    }

    public Output forward(Input in) {
        if (closed) {
            throw new IllegalStateException("ControlNet: forward after close(); its weights are unmapped");
        }
        validate(in);
        UNetConfig c = config.unet();
        Tensor sample = in.sample();
        Backend be = sample.backend();
        int b = sample.dim(0);
        Tensor emb = TimeConditioning.embed(c, timeEmbedding, addEmbedding, be, in.timesteps(), b, in.textEmbeds(),
                in.timeIds());
        UNetBlocks.Conditioning cond = new UNetBlocks.Conditioning(be.silu(emb), in.encoderHiddenStates(),
                PagPlan.NONE, IpAdapterPlan.NONE, in.contextCache());

        Tensor image = be.resident(in.controlnetCond());
        if (config.bgr()) {
            image = flipChannels(image);
        }
        Tensor h = be.add(convIn.forward(sample), condEmbedding.forward(image));
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        for (UNetBlocks.DownBlock block : downBlocks.items()) {
            h = block.forward(h, cond, skips);
        }
        h = midBlock.forward(h, cond);

        int n = skips.size();
        List<Tensor> down = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float scale = in.guessMode() && !config.globalPoolConditions()
                    ? guessScale(i, n, in.conditioningScale()) : in.conditioningScale();
            down.add(scaled(controlnetDownBlocks.get(i).forward(skips.get(i)), scale));
        }
        float midScale = in.guessMode() && !config.globalPoolConditions()
                ? guessScale(n, n, in.conditioningScale()) : in.conditioningScale();
        Tensor mid = scaled(controlnetMidBlock.forward(h), midScale);
        if (config.globalPoolConditions()) {
            down.replaceAll(ControlNetModel::spatialMean);
            mid = spatialMean(mid);
        }
        return new Output(down, mid);
    }

    /** diffusers' guess mode: {@code logspace(-1, 0, n + 1)[i] · scale} (float32, as torch). */
    static float guessScale(int i, int n, float scale) {
        float exponent = -1f + (float) i / n;
        return (float) Math.pow(10, exponent) * scale;
    }

    private static Tensor scaled(Tensor x, float scale) {
        return scale == 1f ? x : x.backend().affine(x, scale, 0f);
    }

    /** Mean over H and W, kept as 1×1 ({@code torch.mean(x, dim=(2, 3), keepdim=True)}). */
    private static Tensor spatialMean(Tensor x) {
        Backend be = x.backend();
        Tensor host = be.toHost(x);
        int b = x.dim(0);
        int ch = x.dim(1);
        int hw = x.dim(2) * x.dim(3);
        float[] v = host.toFloatArray();
        float[] out = new float[b * ch];
        for (int i = 0; i < b * ch; i++) {
            double s = 0;
            for (int j = 0; j < hw; j++) {
                s += v[i * hw + j];
            }
            out[i] = (float) (s / hw);
        }
        return be.resident(Tensor.of(out, b, ch, 1, 1));
    }

    private static Tensor flipChannels(Tensor image) {
        int c = image.dim(1);
        Tensor[] parts = new Tensor[c];
        for (int i = 0; i < c; i++) {
            parts[i] = image.narrow(1, c - 1 - i, 1);
        }
        return image.backend().concat(1, parts);
    }

    private void validate(Input in) {
        UNetConfig c = config.unet();
        Tensor s = in.sample();
        if (s == null || s.rank() != 4 || s.dim(1) != c.inChannels()) {
            throw new IllegalArgumentException("ControlNet: sample must be [B, " + c.inChannels() + ", H, W], got "
                    + (s == null ? "null" : Shapes.str(s.shape())));
        }
        int factor = 1 << (c.blockOutChannels().length - 1);
        if (s.dim(2) % factor != 0 || s.dim(3) % factor != 0) {
            throw new IllegalArgumentException("ControlNet: latent height and width must be multiples of " + factor
                    + ", got " + s.dim(2) + "x" + s.dim(3));
        }
        int b = s.dim(0);
        TimeConditioning.validate("ControlNet", c, b, in.timesteps(), in.encoderHiddenStates(), in.textEmbeds(),
                in.timeIds());
        Tensor img = in.controlnetCond();
        int k = config.imageScale();
        if (img == null || img.rank() != 4 || img.dim(0) != b || img.dim(1) != config.conditioningChannels()
                || img.dim(2) != s.dim(2) * k || img.dim(3) != s.dim(3) * k) {
            throw new IllegalArgumentException("ControlNet: controlnet_cond must be [" + b + ", "
                    + config.conditioningChannels() + ", " + s.dim(2) * k + ", " + s.dim(3) * k + "] for latents "
                    + Shapes.str(s.shape()) + ", got " + (img == null ? "null" : Shapes.str(img.shape())));
        }
        if (!Float.isFinite(in.conditioningScale())) {
            throw new IllegalArgumentException("ControlNet: conditioning_scale must be finite, got "
                    + in.conditioningScale());
        }
    }

    /**
     * Unmaps the weights {@link #fromPretrained} opened; a later {@link #forward} is an
     * {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        TensorStore s = store;
        store = null;
        if (s != null) {
            s.close();
        }
    }
}
