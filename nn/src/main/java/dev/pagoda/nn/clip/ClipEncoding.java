package dev.pagoda.nn.clip;

import java.util.Arrays;
import java.util.List;

/**
 * One prompt run through {@link ClipTokenizer#encode}.
 *
 * @param inputIds what the text encoder takes: bos, the first {@code maxLength - 2} token ids,
 *        eos, then the pad id up to exactly {@code maxLength} ids
 * @param untruncatedInputIds bos, every token id, eos; neither truncated nor padded
 * @param bpeTokens the tokens between bos and eos, as strings: BPE symbols in the byte-level
 *        alphabet ({@code </w>} marks a word end) and added tokens as written
 */
public record ClipEncoding(int[] inputIds, int[] untruncatedInputIds, List<String> bpeTokens) {

    public ClipEncoding {
        inputIds = inputIds.clone();
        untruncatedInputIds = untruncatedInputIds.clone();
        bpeTokens = List.copyOf(bpeTokens);
    }

    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public int[] untruncatedInputIds() {
        return untruncatedInputIds.clone();
    }

    /** Whether tokens were dropped to fit the model's sequence length. */
    public boolean truncated() {
        return untruncatedInputIds.length > inputIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClipEncoding e && Arrays.equals(inputIds, e.inputIds)
                && Arrays.equals(untruncatedInputIds, e.untruncatedInputIds) && bpeTokens.equals(e.bpeTokens);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(inputIds) + Arrays.hashCode(untruncatedInputIds)) + bpeTokens.hashCode();
    }

    @Override
    public String toString() {
        return "ClipEncoding[inputIds=" + Arrays.toString(inputIds) + ", untruncatedInputIds="
                + Arrays.toString(untruncatedInputIds) + ", bpeTokens=" + bpeTokens + "]";
    }
}
