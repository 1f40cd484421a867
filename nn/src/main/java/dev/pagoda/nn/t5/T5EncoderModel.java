package dev.pagoda.nn.t5;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.layers.Embedding;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
import java.util.Set;

/**
 * transformers' {@code T5EncoderModel} (the PixArt text encoder): {@code shared} token embedding,
 * {@code encoder.block.N} blocks sharing the first block's relative position bias, and
 * {@code encoder.final_layer_norm}. Weights stay in their stored dtype (F16/BF16 mmap'd) and are
 * widened inside the kernels; activations are F32.
 *
 * <p>At real size (T5 v1.1 XXL, 4.7 B parameters, ~9.5 GB in BF16) the encoder is needed once per
 * prompt: {@link #close()} unmaps its weights so the rest of a pipeline can run in the memory it
 * held.
 */
public final class T5EncoderModel extends Module implements AutoCloseable {

    /** The tied copy of {@code shared.weight} some checkpoints also store; the model reads {@code shared}. */
    public static final Set<String> IGNORED_KEYS = Set.of("encoder.embed_tokens.weight");

    private final T5Config config;
    private final Embedding shared;
    private final Stack encoder;
    private TensorStore store;
    private boolean closed;

    public T5EncoderModel(T5Config config) {
        this.config = config;
        this.shared = child("shared", new Embedding(config.vocabSize(), config.dModel()));
        this.encoder = child("encoder", new Stack(config));
    }

    /** Builds the model a {@code config.json} describes, without weights. */
    public static T5EncoderModel fromConfig(Path configJson) {
        return new T5EncoderModel(T5Config.from(JsonConfig.read(configJson)));
    }

    /**
     * Loads a transformers {@code text_encoder/} folder: {@code config.json} and {@code model.safetensors}
     * (or a sharded index), memory-mapped; strict key and shape check.
     */
    public static T5EncoderModel fromPretrained(Path folder) {
        T5EncoderModel m = fromConfig(folder.resolve("config.json"));
        TensorStore s = WeightFiles.open(folder, "model", false);
        try {
            WeightLoader.load(m, s, "", IGNORED_KEYS);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        m.store = s;
        return m;
    }

    public T5Config config() {
        return config;
    }

    /**
     * {@code last_hidden_state} for token ids {@code [B, L]} and an optional attention mask
     * {@code [B, L]} (1 = attend, 0 = padding; any dtype); {@code [B, L, d_model]} F32.
     */
    public Tensor forward(Tensor ids, Tensor attentionMask) {
        if (closed) {
            throw new IllegalStateException("T5 encoder: forward after close(); its weights are unmapped");
        }
        if (ids.rank() != 2 || ids.dtype().isFloating() || ids.dim(1) < 1) {
            throw new IllegalArgumentException("T5 encoder: input_ids must be integer [B, L] with L >= 1, got "
                    + ids.dtype() + " " + Shapes.str(ids.shape()));
        }
        int b = ids.dim(0);
        int len = ids.dim(1);
        for (long id : ids.toLongArray()) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("T5 encoder: token id " + id + " outside the vocabulary of "
                        + config.vocabSize());
            }
        }
        Tensor bias = encoder.blocks.get(0).attention().computeBias(len);
        if (attentionMask != null) {
            if (attentionMask.rank() != 2 || attentionMask.dim(0) != b || attentionMask.dim(1) != len) {
                throw new IllegalArgumentException("T5 encoder: attention_mask " + Shapes.str(attentionMask.shape())
                        + " does not match input_ids " + Shapes.str(ids.shape()));
            }
            bias = bias.backend().add(bias, extendedMask(attentionMask));
        }
        Tensor h = shared.forward(ids);
        for (T5Block block : encoder.blocks.items()) {
            h = block.forward(h, bias);
        }
        return encoder.finalLayerNorm.forward(h);
    }

    /** {@code (1 − mask) · float32.min} as {@code [B, 1, 1, L]}, transformers' extended attention mask. */
    private static Tensor extendedMask(Tensor mask) {
        float[] m = mask.toFloatArray();
        for (int i = 0; i < m.length; i++) {
            m[i] = (1f - m[i]) * -Float.MAX_VALUE;
        }
        return Tensor.of(m, mask.dim(0), 1, 1, mask.dim(1));
    }

    /**
     * Unmaps the weight file(s) {@link #fromPretrained} opened; the model cannot run afterwards
     * (a later {@link #forward} is an {@link IllegalStateException}). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        if (store != null) {
            store.close();
            store = null;
        }
    }

    /** {@code T5Stack} ({@code encoder.*}). */
    static final class Stack extends Module {
        final ModuleList<T5Block> blocks = child("block", new ModuleList<>());
        final T5LayerNorm finalLayerNorm;

        Stack(T5Config c) {
            for (int i = 0; i < c.numLayers(); i++) {
                blocks.add(new T5Block(c, i == 0));
            }
            this.finalLayerNorm = child("final_layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        }
    }
}
