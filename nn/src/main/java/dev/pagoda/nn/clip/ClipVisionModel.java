package dev.pagoda.nn.clip;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.Embedding;
import dev.pagoda.nn.layers.LayerNorm;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * transformers' {@code CLIPVisionModelWithProjection} (the IP-Adapter image encoder):
 * {@code vision_model.*} (patch convolution, class token, position embeddings, {@code pre_layrnorm}
 * — transformers' spelling —, pre-LN encoder layers, {@code post_layernorm} of the class token) and
 * {@code visual_projection}. The encoder layers are the text model's, without the causal mask.
 */
public final class ClipVisionModel extends Module {

    /** Buffers older checkpoints saved next to the weights. */
    public static final Set<String> IGNORED_KEYS = Set.of("vision_model.embeddings.position_ids");

    private final ClipVisionConfig config;
    private final VisionTransformer visionModel;
    private final Linear visualProjection;

    public ClipVisionModel(ClipVisionConfig config) {
        this.config = config;
        this.visionModel = child("vision_model", new VisionTransformer(config));
        this.visualProjection = child("visual_projection",
                new Linear(config.hiddenSize(), config.projectionDim(), false));
    }

    public static ClipVisionModel fromConfig(Path configJson) {
        return new ClipVisionModel(ClipVisionConfig.from(JsonConfig.read(configJson)));
    }

    public ClipVisionConfig config() {
        return config;
    }

    /**
     * Encodes {@code pixelValues [B, C, S, S]} (S = {@code image_size}, already normalised as
     * {@code CLIPImageProcessor} does).
     */
    public ClipVisionOutput forward(Tensor pixelValues) {
        int s = config.imageSize();
        if (pixelValues.rank() != 4 || pixelValues.dim(1) != config.numChannels() || pixelValues.dim(2) != s
                || pixelValues.dim(3) != s) {
            throw new IllegalArgumentException("CLIP vision model: pixel_values must be [B, " + config.numChannels()
                    + ", " + s + ", " + s + "], got " + Shapes.str(pixelValues.shape()));
        }
        return visionModel.forward(pixelValues, visualProjection);
    }

    static final class VisionTransformer extends Module {
        private final Embeddings embeddings;
        private final LayerNorm preLayrnorm;
        private final ModuleList<ClipEncoderLayer> layers;
        private final LayerNorm postLayernorm;

        VisionTransformer(ClipVisionConfig c) {
            this.embeddings = child("embeddings", new Embeddings(c));
            this.preLayrnorm = child("pre_layrnorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
            this.layers = child("encoder", new ClipTextTransformer.Encoder()).layers;
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                layers.add(new ClipEncoderLayer(c.hiddenSize(), c.numAttentionHeads(), c.intermediateSize(),
                        c.hiddenAct().equals("quick_gelu"), c.layerNormEps()));
            }
            this.postLayernorm = child("post_layernorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        }

        ClipVisionOutput forward(Tensor pixels, Linear projection) {
            Tensor h = preLayrnorm.forward(embeddings.forward(pixels));
            List<Tensor> hidden = new ArrayList<>();
            hidden.add(h);
            for (ClipEncoderLayer layer : layers.items()) {
                h = layer.forward(h, null);
                hidden.add(h);
            }
            Tensor pooled = postLayernorm.forward(h.narrow(1, 0, 1).reshape(h.dim(0), h.dim(2)).contiguous());
            return new ClipVisionOutput(h, List.copyOf(hidden), pooled, projection.forward(pooled));
        }
    }

    /** {@code CLIPVisionEmbeddings}: [class token, patches] plus learned positions. */
    static final class Embeddings extends Module {
        private final Parameter classEmbedding;
        private final Conv2d patchEmbedding;
        private final Embedding positionEmbedding;
        private final int positions;

        Embeddings(ClipVisionConfig c) {
            this.classEmbedding = param("class_embedding", c.hiddenSize());
            this.patchEmbedding = child("patch_embedding",
                    new Conv2d(c.numChannels(), c.hiddenSize(), c.patchSize(), c.patchSize(), 0, false));
            this.positions = c.numPositions();
            this.positionEmbedding = child("position_embedding", new Embedding(positions, c.hiddenSize()));
        }

        Tensor forward(Tensor pixels) {
            Backend be = pixels.backend();
            int b = pixels.dim(0);
            Tensor patches = patchEmbedding.forward(pixels);
            int d = patches.dim(1);
            Tensor tokens = patches.reshape(b, d, -1).transpose(1, 2);
            Tensor cls = be.resident(classEmbedding.get()).reshape(1, 1, d).expand(b, 1, d);
            Tensor x = be.concat(1, be.copy(cls, dev.pagoda.tensor.DType.F32), tokens.contiguous());
            long[] ids = new long[positions];
            for (int i = 0; i < positions; i++) {
                ids[i] = i;
            }
            return be.add(x, positionEmbedding.forward(Tensor.ofLongs(ids, 1, positions)));
        }
    }
}
