package dev.pagoda.nn.clip;

import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * Outputs of a CLIP text encoder, named as transformers names them.
 *
 * @param lastHiddenState  final-layer-normed output {@code [B, L, H]}
 * @param hiddenStates     embeddings then every layer's output, not normed ({@code L+1} entries)
 * @param poolerOutput     the pooled token of {@code lastHiddenState} {@code [B, H]}
 * @param pooledPositions  the token position pooled per row
 * @param textEmbeds       {@code text_projection(poolerOutput)} {@code [B, P]}, or null without projection
 */
public record ClipTextOutput(Tensor lastHiddenState, List<Tensor> hiddenStates, Tensor poolerOutput,
        int[] pooledPositions, Tensor textEmbeds) {

    /** {@code hidden_states[-2]}: SDXL conditions on the penultimate layer, without the final norm. */
    public Tensor penultimateHiddenState() {
        return hiddenStates.get(hiddenStates.size() - 2);
    }
}
