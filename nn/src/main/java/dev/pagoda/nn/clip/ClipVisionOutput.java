package dev.pagoda.nn.clip;

import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * Outputs of transformers' {@code CLIPVisionModelWithProjection}.
 *
 * @param lastHiddenState the last layer's output {@code [B, T, H]} (not post-normed, as transformers)
 * @param hiddenStates    the pre-layernormed embeddings then every layer's output ({@code L+1} entries)
 * @param poolerOutput    {@code post_layernorm} of the class token {@code [B, H]}
 * @param imageEmbeds     {@code visual_projection(poolerOutput)} {@code [B, P]}
 */
public record ClipVisionOutput(Tensor lastHiddenState, List<Tensor> hiddenStates, Tensor poolerOutput,
        Tensor imageEmbeds) {

    /** {@code hidden_states[-2]}: what IP-Adapter plus conditions on. */
    public Tensor penultimateHiddenState() {
        return hiddenStates.get(hiddenStates.size() - 2);
    }
}
