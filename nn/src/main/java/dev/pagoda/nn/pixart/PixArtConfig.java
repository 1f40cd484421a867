package dev.pagoda.nn.pixart;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.attention.FeedForward;
import java.util.Set;

/**
 * The fields of a diffusers {@code PixArtTransformer2DModel} config ({@code transformer/config.json})
 * with diffusers 0.31's defaults, including its derived values: {@code out_channels} defaults to
 * {@code in_channels}, {@code use_additional_conditions} to {@code sample_size == 128}, and
 * {@code interpolation_scale} to {@code max(sample_size / 64, 1)}.
 *
 * @param captionChannels width of the text encoder's hidden states, or 0 for no caption projection
 */
public record PixArtConfig(
        int numAttentionHeads,
        int attentionHeadDim,
        int inChannels,
        int outChannels,
        int numLayers,
        int crossAttentionDim,
        boolean attentionBias,
        int sampleSize,
        int patchSize,
        FeedForward.Activation activation,
        boolean normElementwiseAffine,
        float normEps,
        float interpolationScale,
        boolean useAdditionalConditions,
        int captionChannels) {

    private static final Set<String> ACTIVATIONS = Set.of("gelu-approximate", "gelu", "geglu");

    public PixArtConfig {
        if (numAttentionHeads <= 0 || attentionHeadDim <= 0 || inChannels <= 0 || outChannels <= 0 || numLayers <= 0
                || sampleSize <= 0 || patchSize <= 0 || crossAttentionDim <= 0) {
            throw new ConfigException("PixArt config: num_attention_heads, attention_head_dim, in_channels, "
                    + "out_channels, num_layers, sample_size, patch_size and cross_attention_dim must be positive");
        }
        int inner = numAttentionHeads * attentionHeadDim;
        if (inner % 2 != 0 || (inner / 2) % 2 != 0) {
            throw new ConfigException("PixArt config: the inner width num_attention_heads·attention_head_dim = " + inner
                    + " must be a multiple of 4 (2-D sin-cos position embedding)");
        }
        if (useAdditionalConditions && inner % 3 != 0) {
            throw new ConfigException("PixArt config: use_additional_conditions needs an inner width divisible by 3, "
                    + "got " + inner);
        }
        if (captionChannels > 0 && crossAttentionDim != inner) {
            throw new ConfigException("PixArt config: cross_attention_dim " + crossAttentionDim + " must equal the inner"
                    + " width " + inner + " (the caption projection maps the text into it)");
        }
        if (!(interpolationScale > 0)) {
            throw new ConfigException("PixArt config: interpolation_scale must be positive, got " + interpolationScale);
        }
    }

    /** Channels of the token stream: {@code num_attention_heads · attention_head_dim}. */
    public int innerDim() {
        return numAttentionHeads * attentionHeadDim;
    }

    public static PixArtConfig from(JsonConfig c) {
        String norm = str(c, "norm_type", "ada_norm_single");
        if (!norm.equals("ada_norm_single")) {
            throw new ConfigException(c.source() + ": norm_type \"" + norm + "\" is not supported by "
                    + "PixArtTransformer2DModel (only \"ada_norm_single\", as in diffusers)");
        }
        if (c.keys().contains("num_embeds_ada_norm") && c.raw("num_embeds_ada_norm") == null) {
            throw new ConfigException(c.source() + ": num_embeds_ada_norm cannot be null with norm_type ada_norm_single");
        }
        String attentionType = str(c, "attention_type", "default");
        if (!attentionType.equals("default")) {
            throw new ConfigException(c.source() + ": attention_type \"" + attentionType + "\" is not supported (only"
                    + " \"default\")");
        }
        String act = str(c, "activation_fn", "gelu-approximate");
        if (!ACTIVATIONS.contains(act)) {
            throw new ConfigException(c.source() + ": activation_fn \"" + act + "\" is not supported (expected one of "
                    + new java.util.TreeSet<>(ACTIVATIONS) + ")");
        }
        int in = integer(c, "in_channels", 4);
        int sample = integer(c, "sample_size", 128);
        Object extra = c.raw("use_additional_conditions");
        Object interp = c.raw("interpolation_scale");
        try {
            return new PixArtConfig(
                    integer(c, "num_attention_heads", 16),
                    integer(c, "attention_head_dim", 72),
                    in,
                    !c.keys().contains("out_channels") ? 8 : integer(c, "out_channels", in), // absent: 8; null: in_channels
                    integer(c, "num_layers", 28),
                    integer(c, "cross_attention_dim", 1152),
                    c.bool("attention_bias", true),
                    sample,
                    integer(c, "patch_size", 2),
                    switch (act) {
                        case "gelu" -> FeedForward.Activation.GELU;
                        case "geglu" -> FeedForward.Activation.GEGLU;
                        default -> FeedForward.Activation.GELU_TANH;
                    },
                    c.bool("norm_elementwise_affine", false),
                    (float) c.number("norm_eps", 1e-6),
                    interp == null ? Math.max(sample / 64, 1) : (float) c.number("interpolation_scale"),
                    extra == null ? sample == 128 : c.bool("use_additional_conditions", false),
                    integer(c, "caption_channels", 0));
        } catch (ConfigException e) {
            throw new ConfigException(c.source() + ": " + e.getMessage(), e);
        }
    }

    /** An integer field that may be absent or JSON null (both mean the default). */
    private static int integer(JsonConfig c, String key, int dflt) {
        return c.raw(key) == null ? dflt : c.integer(key);
    }

    private static String str(JsonConfig c, String key, String dflt) {
        return c.raw(key) == null ? dflt : c.string(key);
    }
}
