package dev.pagoda.nn.clip;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Embedding;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers' {@code CLIPTextTransformer} ({@code text_model}): token and position embeddings,
 * causal pre-LN encoder layers, final layer norm, and the pooled token.
 */
public final class ClipTextTransformer extends Module {

    private final ClipTextConfig config;
    private final Embeddings embeddings;
    private final ModuleList<ClipEncoderLayer> layers;
    private final LayerNorm finalLayerNorm;

    ClipTextTransformer(ClipTextConfig c) {
        this.config = c;
        this.embeddings = child("embeddings", new Embeddings(c));
        this.layers = child("encoder", new Encoder()).layers;
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            layers.add(new ClipEncoderLayer(c));
        }
        this.finalLayerNorm = child("final_layer_norm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    /**
     * @param ids token ids {@code [B, L]} (I32 or I64), L ≤ max_position_embeddings
     */
    ClipTextOutput forward(Tensor ids) {
        if (ids.rank() != 2 || ids.dim(1) > config.maxPositionEmbeddings() || ids.dtype().isFloating()) {
            throw new IllegalArgumentException("CLIP text model: input_ids must be integer [B, L] with L <= "
                    + config.maxPositionEmbeddings() + ", got " + ids.dtype() + " " + Shapes.str(ids.shape()));
        }
        int b = ids.dim(0);
        int len = ids.dim(1);
        long[] idv = ids.toLongArray();
        for (long id : idv) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("CLIP text model: token id " + id + " outside the vocabulary of "
                        + config.vocabSize());
            }
        }
        var be = embeddings.token.weight().get().backend();
        long[] pos = new long[len];
        for (int i = 0; i < len; i++) {
            pos[i] = i;
        }
        Tensor h = be.add(embeddings.token.forward(ids), embeddings.position.forward(Tensor.ofLongs(pos, 1, len)));
        Tensor mask = causalMask(len);
        List<Tensor> hidden = new ArrayList<>();
        hidden.add(h);
        for (ClipEncoderLayer layer : layers.items()) {
            h = layer.forward(h, mask);
            hidden.add(h);
        }
        Tensor last = finalLayerNorm.forward(h);
        // Pooled token: argmax of the ids (the first <|endoftext|>) for the legacy eos_token_id 2,
        // else the first occurrence of eos_token_id — transformers' rule.
        int dim = config.hiddenSize();
        float[] pooled = new float[b * dim];
        int[] positions = new int[b];
        float[] lastv = last.backend().toHost(last).toFloatArray();
        for (int r = 0; r < b; r++) {
            int at = 0;
            if (config.eosTokenId() == 2) {
                for (int i = 1; i < len; i++) {
                    if (idv[r * len + i] > idv[r * len + at]) {
                        at = i;
                    }
                }
            } else {
                at = -1;
                for (int i = 0; i < len && at < 0; i++) {
                    if (idv[r * len + i] == config.eosTokenId()) {
                        at = i;
                    }
                }
                if (at < 0) {
                    throw new IllegalArgumentException("CLIP text model: row " + r + " has no eos token "
                            + config.eosTokenId());
                }
            }
            positions[r] = at;
            System.arraycopy(lastv, (r * len + at) * dim, pooled, r * dim, dim);
        }
        return new ClipTextOutput(last, hidden, last.backend().resident(Tensor.of(pooled, b, dim)), positions, null);
    }

    private static Tensor causalMask(int len) {
        float[] m = new float[len * len];
        for (int i = 0; i < len; i++) {
            for (int j = i + 1; j < len; j++) {
                m[i * len + j] = -Float.MAX_VALUE;
            }
        }
        return Tensor.of(m, 1, 1, len, len);
    }

    /** {@code final_layer_norm} alone (SD's {@code clip_skip} normalises an earlier hidden state with it). */
    public Tensor finalLayerNorm(Tensor hidden) {
        return finalLayerNorm.forward(hidden);
    }

    public ClipTextConfig config() {
        return config;
    }

    static final class Embeddings extends Module {
        final Embedding token;
        final Embedding position;

        Embeddings(ClipTextConfig c) {
            this.token = child("token_embedding", new Embedding(c.vocabSize(), c.hiddenSize()));
            this.position = child("position_embedding", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize()));
        }
    }

    static final class Encoder extends Module {
        final ModuleList<ClipEncoderLayer> layers = child("layers", new ModuleList<>());
    }
}
