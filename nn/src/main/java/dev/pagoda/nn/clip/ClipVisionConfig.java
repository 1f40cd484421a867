package dev.pagoda.nn.clip;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;

/** The fields of a transformers {@code CLIPVisionConfig} ({@code image_encoder/config.json}). */
public record ClipVisionConfig(
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numChannels,
        int imageSize,
        int patchSize,
        String hiddenAct,
        float layerNormEps,
        int projectionDim) {

    public ClipVisionConfig {
        if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
            throw new ConfigException("CLIP vision config: hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (patchSize <= 0 || imageSize % patchSize != 0) {
            throw new ConfigException("CLIP vision config: image_size " + imageSize
                    + " is not a multiple of patch_size " + patchSize);
        }
        if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu")) {
            throw new ConfigException("CLIP vision config: unsupported hidden_act \"" + hiddenAct
                    + "\" (supported: quick_gelu, gelu)");
        }
    }

    /** Reads the config with transformers' defaults for absent fields (ViT-B/32). */
    public static ClipVisionConfig from(JsonConfig c) {
        if (c.has("vision_config")) {
            throw new ConfigException(c.source() + ": a full CLIPModel config; the image encoder folder must hold a"
                    + " CLIPVisionModelWithProjection config");
        }
        try {
            return new ClipVisionConfig(
                    c.integer("hidden_size", 768),
                    c.integer("intermediate_size", 3072),
                    c.integer("num_hidden_layers", 12),
                    c.integer("num_attention_heads", 12),
                    c.integer("num_channels", 3),
                    c.integer("image_size", 224),
                    c.integer("patch_size", 32),
                    c.string("hidden_act", "quick_gelu"),
                    (float) c.number("layer_norm_eps", 1e-5),
                    c.integer("projection_dim", 512));
        } catch (ConfigException e) {
            throw new ConfigException(c.source() + ": " + e.getMessage(), e);
        }
    }

    /** Patches per side squared plus the class token. */
    public int numPositions() {
        int side = imageSize / patchSize;
        return side * side + 1;
    }
}
