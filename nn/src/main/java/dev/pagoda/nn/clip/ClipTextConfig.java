package dev.pagoda.nn.clip;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;

/** The fields of a transformers {@code CLIPTextConfig} ({@code text_encoder/config.json}). */
public record ClipTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int maxPositionEmbeddings,
        String hiddenAct,
        float layerNormEps,
        int projectionDim,
        int eosTokenId) {

    public static ClipTextConfig from(JsonConfig c) {
        String act = c.string("hidden_act", "quick_gelu");
        if (!act.equals("quick_gelu") && !act.equals("gelu")) {
            throw new ConfigException(c.source() + ": unsupported hidden_act \"" + act
                    + "\" (supported: quick_gelu, gelu)");
        }
        int hidden = c.integer("hidden_size", 512);
        int heads = c.integer("num_attention_heads", 8);
        if (heads <= 0 || hidden % heads != 0) {
            throw new ConfigException(c.source() + ": hidden_size " + hidden + " is not divisible by"
                    + " num_attention_heads " + heads);
        }
        return new ClipTextConfig(
                c.integer("vocab_size", 49408),
                hidden,
                c.integer("intermediate_size", 2048),
                c.inRange("num_hidden_layers", c.integer("num_hidden_layers", 12), 1, 256),
                heads,
                c.integer("max_position_embeddings", 77),
                act,
                (float) c.number("layer_norm_eps", 1e-5),
                c.integer("projection_dim", 512),
                c.integer("eos_token_id", 2));
    }
}
