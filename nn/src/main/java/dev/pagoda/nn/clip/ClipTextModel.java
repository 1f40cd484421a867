package dev.pagoda.nn.clip;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.Set;

/**
 * transformers' {@code CLIPTextModel} and, with a projection, {@code CLIPTextModelWithProjection}
 * (SDXL's second encoder): {@code text_model.*} plus {@code text_projection.weight}.
 */
public final class ClipTextModel extends Module {

    /**
     * Buffers that older checkpoints saved next to the weights; the architecture has no parameter for
     * them, so loading skips them.
     */
    public static final Set<String> IGNORED_KEYS = Set.of("text_model.embeddings.position_ids");

    private final ClipTextTransformer textModel;
    private final Linear textProjection;

    public ClipTextModel(ClipTextConfig config, boolean withProjection) {
        this.textModel = child("text_model", new ClipTextTransformer(config));
        this.textProjection = withProjection
                ? child("text_projection", new Linear(config.hiddenSize(), config.projectionDim(), false))
                : null;
    }

    /**
     * Builds the model a {@code config.json} describes; {@code architectures} naming
     * {@code CLIPTextModelWithProjection} adds the projection.
     */
    public static ClipTextModel fromConfig(Path configJson) {
        JsonConfig c = JsonConfig.read(configJson);
        boolean projection = c.has("architectures") && c.strings("architectures").contains("CLIPTextModelWithProjection");
        return c.build(() -> new ClipTextModel(ClipTextConfig.from(c), projection));
    }

    public ClipTextConfig config() {
        return textModel.config();
    }

    /** {@code text_model.final_layer_norm} applied to {@code hidden} {@code [B, L, H]}. */
    public Tensor finalLayerNorm(Tensor hidden) {
        return textModel.finalLayerNorm(hidden);
    }

    public boolean hasProjection() {
        return textProjection != null;
    }

    /** Encodes token ids {@code [B, L]}. */
    public ClipTextOutput forward(Tensor ids) {
        ClipTextOutput o = textModel.forward(ids);
        if (textProjection == null) {
            return o;
        }
        return new ClipTextOutput(o.lastHiddenState(), o.hiddenStates(), o.poolerOutput(), o.pooledPositions(),
                textProjection.forward(o.poolerOutput()));
    }
}
