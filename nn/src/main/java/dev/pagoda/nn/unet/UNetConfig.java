package dev.pagoda.nn.unet;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import java.util.List;

/**
 * The fields of {@code unet/config.json} Pagoda uses, with diffusers' defaults and meaning. Note the
 * historical naming: when {@code num_attention_heads} is absent, {@code attention_head_dim} gives
 * the number of heads per level (SDXL: [5, 10, 20], 64 channels each).
 */
public record UNetConfig(
        int inChannels,
        int outChannels,
        int[] blockOutChannels,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        String midBlockType,
        int[] layersPerBlock,
        int[] transformerLayersPerBlock,
        int[] reverseTransformerLayersPerBlock,
        int[] numAttentionHeads,
        int crossAttentionDim,
        boolean useLinearProjection,
        int normNumGroups,
        float normEps,
        boolean flipSinToCos,
        float freqShift,
        String additionEmbedType,
        int additionTimeEmbedDim,
        int projectionClassEmbeddingsInputDim,
        int sampleSize,
        int downsamplePadding) {

    public static final List<String> DOWN_TYPES = List.of("DownBlock2D", "CrossAttnDownBlock2D");
    public static final List<String> UP_TYPES = List.of("UpBlock2D", "CrossAttnUpBlock2D");

    /** Bounds on counts and widths (far above any released model) so a hostile config cannot exhaust memory. */
    static final int MAX_LAYERS = 128;
    static final int MAX_CHANNELS = 1 << 16;

    public static UNetConfig from(JsonConfig c) {
        return parse(c, true);
    }

    /**
     * The encoder half of a UNet config (conv_in, time embeddings, down and mid blocks), as a
     * {@code ControlNetModel}'s {@code config.json} describes it: no up blocks, so {@link #upBlockTypes}
     * is empty and the config cannot build a {@link UNet2DConditionModel}.
     */
    public static UNetConfig encoderHalf(JsonConfig c) {
        return parse(c, false);
    }

    private static UNetConfig parse(JsonConfig c, boolean withUpBlocks) {
        int[] blocks = c.inRange("block_out_channels", c.ints("block_out_channels"), 1, MAX_CHANNELS);
        int n = c.inRange("block_out_channels (number of blocks)", blocks.length, 1, 16);
        List<String> down = c.has("down_block_types") ? c.strings("down_block_types")
                : List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D");
        List<String> up = !withUpBlocks ? List.of() : c.has("up_block_types") ? c.strings("up_block_types")
                : List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D");
        if (down.size() != n || (withUpBlocks && up.size() != n)) {
            throw new ConfigException(c.source() + ": down_block_types (" + down.size() + ")"
                    + (withUpBlocks ? " and up_block_types (" + up.size() + ") must each" : " must")
                    + " have one entry per block_out_channels (" + n + ")");
        }
        for (String t : down) {
            if (!DOWN_TYPES.contains(t)) {
                throw new ConfigException(c.source() + ": unsupported down block type \"" + t + "\" in"
                        + " down_block_types (supported: " + DOWN_TYPES + ")");
            }
        }
        for (String t : up) {
            if (!UP_TYPES.contains(t)) {
                throw new ConfigException(c.source() + ": unsupported up block type \"" + t + "\" in"
                        + " up_block_types (supported: " + UP_TYPES + ")");
            }
        }
        String mid = c.string("mid_block_type", "UNetMidBlock2DCrossAttn");
        if (!mid.equals("UNetMidBlock2DCrossAttn")) {
            throw new ConfigException(c.source() + ": unsupported mid_block_type \"" + mid
                    + "\" (supported: UNetMidBlock2DCrossAttn)");
        }
        String act = c.string("act_fn", "silu");
        if (!act.equals("silu")) {
            throw new ConfigException(c.source() + ": unsupported act_fn \"" + act + "\" (supported: silu)");
        }
        String shift = c.string("resnet_time_scale_shift", "default");
        if (!shift.equals("default")) {
            throw new ConfigException(c.source() + ": unsupported resnet_time_scale_shift \"" + shift + "\"");
        }
        String embType = c.string("addition_embed_type", "");
        if (!embType.isEmpty() && !embType.equals("text_time")) {
            throw new ConfigException(c.source() + ": unsupported addition_embed_type \"" + embType
                    + "\" (supported: text_time or none)");
        }
        if (c.has("class_embed_type")) {
            throw new ConfigException(c.source() + ": class_embed_type \"" + c.raw("class_embed_type")
                    + "\" is not supported");
        }
        String timeType = c.string("time_embedding_type", "positional");
        if (!timeType.equals("positional")) {
            throw new ConfigException(c.source() + ": unsupported time_embedding_type \"" + timeType + "\"");
        }
        if (c.bool("only_cross_attention", false) || c.bool("dual_cross_attention", false)) {
            throw new ConfigException(c.source() + ": only_cross_attention / dual_cross_attention are not supported");
        }
        // diffusers: num_attention_heads = num_attention_heads or attention_head_dim
        int[] heads = c.has("num_attention_heads") ? c.intOrList("num_attention_heads", n, null)
                : c.intOrList("attention_head_dim", n, 8);
        c.inRange("attention heads", heads, 1, MAX_CHANNELS);
        int[] tlayers = c.inRange("transformer_layers_per_block", c.intOrList("transformer_layers_per_block", n, 1),
                1, MAX_LAYERS);
        int[] reverse = c.has("reverse_transformer_layers_per_block")
                ? c.inRange("reverse_transformer_layers_per_block",
                        c.intOrList("reverse_transformer_layers_per_block", n, null), 1, MAX_LAYERS) : null;
        int crossDim = c.integer("cross_attention_dim", 1280);
        int addDim = c.integer("addition_time_embed_dim", 0);
        int projDim = c.integer("projection_class_embeddings_input_dim", 0);
        if (embType.equals("text_time") && (addDim <= 0 || projDim <= 0)) {
            throw new ConfigException(c.source() + ": addition_embed_type text_time needs addition_time_embed_dim"
                    + " and projection_class_embeddings_input_dim");
        }
        return new UNetConfig(
                c.integer("in_channels", 4),
                c.integer("out_channels", 4),
                blocks, down, up, mid,
                c.inRange("layers_per_block", c.intOrList("layers_per_block", n, 2), 1, MAX_LAYERS),
                tlayers, reverse, heads, crossDim,
                c.bool("use_linear_projection", false),
                c.integer("norm_num_groups", 32),
                (float) c.number("norm_eps", 1e-5),
                c.bool("flip_sin_to_cos", true),
                (float) c.number("freq_shift", 0),
                embType, addDim, projDim,
                c.integer("sample_size", 64),
                c.integer("downsample_padding", 1));
    }

    public boolean textTime() {
        return additionEmbedType.equals("text_time");
    }
}
