package dev.pagoda.nn.t5;

import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * One prompt run through {@link T5Tokenizer#encode}.
 *
 * @param inputIds            the token ids, truncated to keep room for {@code </s>}, then {@code </s>},
 *                            then {@code <pad>} up to exactly {@code maxLength}
 * @param attentionMask       1 for every real token (including {@code </s>}), 0 for padding
 * @param untruncatedInputIds every token id and {@code </s>}, neither truncated nor padded
 * @param pieces              {@code tokenize(prompt)}: SentencePiece pieces and added tokens as written
 */
public record T5Encoding(int[] inputIds, int[] attentionMask, int[] untruncatedInputIds, List<String> pieces) {

    public T5Encoding {
        inputIds = inputIds.clone();
        attentionMask = attentionMask.clone();
        untruncatedInputIds = untruncatedInputIds.clone();
        pieces = List.copyOf(pieces);
    }

    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    @Override
    public int[] untruncatedInputIds() {
        return untruncatedInputIds.clone();
    }

    /** Number of unmasked tokens. */
    public int length() {
        int n = 0;
        for (int m : attentionMask) {
            n += m;
        }
        return n;
    }

    /** Whether tokens were dropped to fit {@code maxLength}. */
    public boolean truncated() {
        return untruncatedInputIds.length > length();
    }

    /** {@code input_ids} as an I64 tensor {@code [1, maxLength]}. */
    public Tensor inputIdsTensor() {
        return Tensor.ofLongs(Arrays.stream(inputIds).asLongStream().toArray(), 1, inputIds.length);
    }

    /** {@code attention_mask} as an I64 tensor {@code [1, maxLength]}. */
    public Tensor attentionMaskTensor() {
        return Tensor.ofLongs(Arrays.stream(attentionMask).asLongStream().toArray(), 1, attentionMask.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof T5Encoding e && Arrays.equals(inputIds, e.inputIds)
                && Arrays.equals(attentionMask, e.attentionMask)
                && Arrays.equals(untruncatedInputIds, e.untruncatedInputIds) && pieces.equals(e.pieces);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputIds) * 31 + pieces.hashCode();
    }

    @Override
    public String toString() {
        return "T5Encoding[inputIds=" + Arrays.toString(inputIds) + ", attentionMask=" + Arrays.toString(attentionMask)
                + ", untruncatedInputIds=" + Arrays.toString(untruncatedInputIds) + ", pieces=" + pieces + "]";
    }
}
