package dev.pagoda.nn.t5;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;

/**
 * The encoder fields of a transformers {@code T5Config} ({@code text_encoder/config.json}), with
 * transformers' defaults. {@code feed_forward_proj} is parsed as transformers does: an optional
 * {@code gated-} prefix and an activation, where {@code gated-gelu} means the tanh GELU
 * ({@code gelu_new}) for backward compatibility with T5 v1.1 checkpoints.
 */
public record T5Config(
        int vocabSize,
        int dModel,
        int dKv,
        int dFf,
        int numLayers,
        int numHeads,
        int relativeAttentionNumBuckets,
        int relativeAttentionMaxDistance,
        float layerNormEpsilon,
        Activation denseActivation,
        boolean gatedActivation) {

    /** The activations {@code ACT2FN} maps the supported {@code dense_act_fn} names to. */
    public enum Activation {
        RELU, GELU, GELU_TANH, SILU;

        static Activation of(String name) {
            return switch (name) {
                case "relu" -> RELU;
                case "gelu" -> GELU;
                case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
                case "silu", "swish" -> SILU;
                default -> null;
            };
        }
    }

    public T5Config {
        if (dModel <= 0 || dKv <= 0 || dFf <= 0 || numHeads <= 0 || numLayers <= 0 || vocabSize <= 0) {
            throw new ConfigException("T5 config: d_model, d_kv, d_ff, num_heads, num_layers and vocab_size must be"
                    + " positive, got " + dModel + ", " + dKv + ", " + dFf + ", " + numHeads + ", " + numLayers + ", "
                    + vocabSize);
        }
        if (relativeAttentionNumBuckets < 2 || relativeAttentionMaxDistance < 1) {
            throw new ConfigException("T5 config: relative_attention_num_buckets must be >= 2 and"
                    + " relative_attention_max_distance >= 1, got " + relativeAttentionNumBuckets + ", "
                    + relativeAttentionMaxDistance);
        }
    }

    public static T5Config from(JsonConfig c) {
        String proj = c.string("feed_forward_proj", "relu");
        String[] parts = proj.split("-", -1);
        boolean gated = parts[0].equals("gated");
        if (parts.length > 2 || (parts.length == 2 && !gated)) {
            throw new ConfigException(c.source() + ": feed_forward_proj \"" + proj + "\" is not a valid activation"
                    + " (expected ACT or gated-ACT, e.g. \"relu\" or \"gated-gelu\")");
        }
        // transformers derives these from feed_forward_proj, but a saved config's own values win
        // (PretrainedConfig sets the remaining keys after T5Config derived them)
        String act = c.string("dense_act_fn", proj.equals("gated-gelu") ? "gelu_new" : parts[parts.length - 1]);
        gated = c.bool("is_gated_act", gated);
        Activation a = Activation.of(act);
        if (a == null) {
            throw new ConfigException(c.source() + ": unsupported feed_forward_proj \"" + proj + "\" (dense_act_fn \""
                    + act + "\"; supported: relu, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, silu, swish,"
                    + " each optionally gated-)");
        }
        return new T5Config(
                c.integer("vocab_size", 32128),
                c.integer("d_model", 512),
                c.integer("d_kv", 64),
                c.integer("d_ff", 2048),
                c.integer("num_layers", 6),
                c.integer("num_heads", 8),
                c.integer("relative_attention_num_buckets", 32),
                c.integer("relative_attention_max_distance", 128),
                (float) c.number("layer_norm_epsilon", 1e-6),
                a,
                gated);
    }

    /** {@code num_heads · d_kv}: the width of q, k, v. */
    public int innerDim() {
        return numHeads * dKv;
    }
}
