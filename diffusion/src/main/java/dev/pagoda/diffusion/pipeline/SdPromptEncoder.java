package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.tensor.Tensor;

/**
 * SD 1.x/2.x {@code encode_prompt}: the prompt through the one CLIP tokenizer (padded to 77) and text
 * encoder, conditioning on its final-normed {@code last_hidden_state}. With CFG the negative prompt is
 * encoded the same way; a missing one is encoded as {@code ""} (SD has no zero negatives).
 */
final class SdPromptEncoder {

    /** {@code [1, 77, hidden]} each; {@code negative} null without CFG. */
    record Encoded(Tensor positive, Tensor negative) {
    }

    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;

    SdPromptEncoder(ClipTokenizer tokenizer, ClipTextModel textEncoder) {
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
    }

    Encoded encode(String prompt, String negative, boolean cfg) {
        Tensor pos = encodeOne(prompt);
        return new Encoded(pos, cfg ? encodeOne(negative == null ? "" : negative) : null);
    }

    private Tensor encodeOne(String prompt) {
        int[] ids = tokenizer.encode(prompt).inputIds();
        long[] v = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            v[i] = ids[i];
        }
        return textEncoder.forward(Tensor.ofLongs(v, 1, v.length)).lastHiddenState();
    }
}
