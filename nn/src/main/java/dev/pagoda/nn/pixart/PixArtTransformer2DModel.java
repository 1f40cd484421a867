package dev.pagoda.nn.pixart;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.attention.BasicTransformerBlock;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;

/**
 * diffusers' {@code PixArtTransformer2DModel} (PixArt-α and PixArt-Σ): patch embedding with a 2-D
 * sin-cos position embedding, adaLN-single timestep modulation, a caption projection of the T5
 * hidden states, {@code num_layers} {@code ada_norm_single} transformer blocks with a masked
 * cross-attention, then the final shift/scale modulation, a linear head and unpatchify. With
 * {@code out_channels = 2·in_channels} (learned sigma) the second half of the output channels is the
 * variance, which the pipelines drop.
 *
 * <p>PAG: the call's {@link PagPlan} reaches every block's {@code attn1}
 * ({@code transformer_blocks.N.attn1}); the model keeps no per-call state.
 */
public final class PixArtTransformer2DModel extends Module {

    /**
     * One forward call.
     *
     * @param sample               latents {@code [B, in_channels, H, W]}, H and W multiples of the patch size
     * @param timesteps            one timestep per batch row (or a single one for every row)
     * @param encoderHiddenStates  text {@code [B, L, caption_channels]}
     * @param encoderAttentionMask {@code [B, L]}: 1 keeps a text token, 0 drops it; or null (keep all)
     * @param resolution           {@code [B, 2]} when the config uses additional conditions, else null
     * @param aspectRatio          {@code [B, 1]} likewise
     * @param pag                  which self-attention rows take the identity path
     */
    public record Input(Tensor sample, float[] timesteps, Tensor encoderHiddenStates, Tensor encoderAttentionMask,
            Tensor resolution, Tensor aspectRatio, PagPlan pag) {

        public static Input of(Tensor sample, float timestep, Tensor ehs, Tensor mask) {
            return new Input(sample, new float[] {timestep}, ehs, mask, null, null, PagPlan.NONE);
        }

        public Input withPag(PagPlan plan) {
            return new Input(sample, timesteps, encoderHiddenStates, encoderAttentionMask, resolution, aspectRatio, plan);
        }
    }

    private final PixArtConfig config;
    private final PatchEmbed posEmbed;
    private final ModuleList<BasicTransformerBlock> blocks;
    private final LayerNorm normOut;
    private final Parameter scaleShiftTable;
    private final Linear projOut;
    private final AdaLayerNormSingle adaln;
    private final PixArtAlphaTextProjection captionProjection;

    public PixArtTransformer2DModel(PixArtConfig c) {
        this.config = c;
        int dim = c.innerDim();
        this.posEmbed = child("pos_embed", new PatchEmbed(c.inChannels(), dim, c.patchSize(), c.sampleSize(),
                c.interpolationScale()));
        this.blocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < c.numLayers(); i++) {
            blocks.add(BasicTransformerBlock.adaNormSingle(dim, c.numAttentionHeads(), c.attentionHeadDim(),
                    c.crossAttentionDim(), c.attentionBias(), c.activation(), c.normElementwiseAffine(), c.normEps()));
        }
        this.normOut = child("norm_out", new LayerNorm(dim, 1e-6f, false));
        this.scaleShiftTable = param("scale_shift_table", 2, dim);
        this.projOut = child("proj_out", new Linear(dim, c.patchSize() * c.patchSize() * c.outChannels(), true));
        this.adaln = child("adaln_single", new AdaLayerNormSingle(dim, c.useAdditionalConditions()));
        this.captionProjection = c.captionChannels() > 0
                ? child("caption_projection", new PixArtAlphaTextProjection(c.captionChannels(), dim)) : null;
    }

    /** Builds the architecture {@code transformer/config.json} describes (weights not loaded). */
    public static PixArtTransformer2DModel fromConfig(Path configJson) {
        return new PixArtTransformer2DModel(PixArtConfig.from(JsonConfig.read(configJson)));
    }

    public PixArtConfig config() {
        return config;
    }

    public int numBlocks() {
        return blocks.size();
    }

    public Tensor forward(Input in) {
        Tensor x = in.sample();
        validate(in);
        Backend be = x.backend();
        int b = x.dim(0);
        int p = config.patchSize();
        int gh = x.dim(2) / p;
        int gw = x.dim(3) / p;
        int dim = config.innerDim();
        float[] ts = in.timesteps().length == b ? in.timesteps() : expand(in.timesteps()[0], b);

        Tensor h = posEmbed.forward(x);
        AdaLayerNormSingle.Output t = adaln.forward(ts, in.resolution(), in.aspectRatio(), be);
        Tensor ctx = in.encoderHiddenStates();
        if (captionProjection != null) {
            ctx = captionProjection.forward(ctx);
        }
        Tensor mask = in.encoderAttentionMask() == null ? null : be.resident(bias(in.encoderAttentionMask()));
        for (BasicTransformerBlock block : blocks.items()) {
            h = block.forward(h, ctx, mask, t.modulation(), in.pag());
        }
        Tensor mod = be.add(scaleShiftTable.get().unsqueeze(0), t.embeddedTimestep().unsqueeze(1));
        Tensor shift = mod.narrow(1, 0, 1);
        Tensor scale = mod.narrow(1, 1, 1);
        h = be.add(be.mul(normOut.forward(h), be.affine(scale, 1f, 1f)), shift);
        h = projOut.forward(h);
        int c = config.outChannels();
        // [B, gh·gw, p·p·C] → [B, gh, gw, p, p, C] → [B, C, gh, p, gw, p]
        return h.reshape(b, gh, gw, p, p, c).permute(0, 5, 1, 3, 2, 4).contiguous().reshape(b, c, gh * p, gw * p);
    }

    private void validate(Input in) {
        Tensor x = in.sample();
        int p = config.patchSize();
        if (x.rank() != 4 || x.dim(1) != config.inChannels() || x.dim(2) % p != 0 || x.dim(3) % p != 0
                || x.dim(2) == 0 || x.dim(3) == 0) {
            throw new IllegalArgumentException("PixArt transformer: sample must be [B, " + config.inChannels()
                    + ", H, W] with H and W positive multiples of the patch size " + p + ", got "
                    + Shapes.str(x.shape()));
        }
        int b = x.dim(0);
        if (in.timesteps() == null || (in.timesteps().length != b && in.timesteps().length != 1)) {
            throw new IllegalArgumentException("PixArt transformer: one timestep or one per batch row (" + b
                    + ") expected, got " + (in.timesteps() == null ? "none" : in.timesteps().length));
        }
        Tensor ehs = in.encoderHiddenStates();
        int cap = config.captionChannels() > 0 ? config.captionChannels() : config.crossAttentionDim();
        if (ehs == null || ehs.rank() != 3 || ehs.dim(0) != b || ehs.dim(2) != cap) {
            throw new IllegalArgumentException("PixArt transformer: encoder_hidden_states must be [" + b + ", L, " + cap
                    + "] (caption_channels), got " + (ehs == null ? "null" : Shapes.str(ehs.shape())));
        }
        Tensor m = in.encoderAttentionMask();
        if (m != null && (m.rank() != 2 || m.dim(0) != b || m.dim(1) != ehs.dim(1))) {
            throw new IllegalArgumentException("PixArt transformer: encoder_attention_mask must be [" + b + ", "
                    + ehs.dim(1) + "], got " + Shapes.str(m.shape()));
        }
    }

    private static float[] expand(float t, int b) {
        float[] out = new float[b];
        java.util.Arrays.fill(out, t);
        return out;
    }

    /** diffusers' {@code (1 − mask) · −10000} as an additive {@code [B, 1, 1, L]} bias. */
    static Tensor bias(Tensor mask) {
        float[] m = mask.toFloatArray();
        for (int i = 0; i < m.length; i++) {
            m[i] = (1f - m[i]) * -10000.0f;
        }
        return Tensor.of(m, mask.dim(0), 1, 1, mask.dim(1));
    }
}
