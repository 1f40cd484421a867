package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.clip.ClipTextOutput;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.List;

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
        return encode(List.of(prompt), java.util.Collections.singletonList(negative), cfg, null);
    }

    /**
     * A batch of prompts ({@code [B, 77, hidden]}); negatives null or missing: {@code ""}.
     *
     * @param clipSkip diffusers' {@code clip_skip} for the positive prompts: {@code final_layer_norm} of
     *                 {@code hidden_states[-(clip_skip + 1)]} (null: {@code last_hidden_state})
     */
    Encoded encode(List<String> prompts, List<String> negatives, boolean cfg, Integer clipSkip) {
        Tensor[] pos = new Tensor[prompts.size()];
        Tensor[] neg = new Tensor[prompts.size()];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = encodeOne(prompts.get(i), clipSkip);
            if (cfg) {
                String n = negatives.get(i);
                neg[i] = encodeOne(n == null ? "" : n, null);
            }
        }
        return new Encoded(cat(pos), cfg ? cat(neg) : null);
    }

    private static Tensor cat(Tensor[] rows) {
        return rows.length == 1 ? rows[0] : Backend.cpu().concat(0, rows);
    }

    private Tensor encodeOne(String prompt, Integer clipSkip) {
        int[] ids = tokenizer.encode(prompt).inputIds();
        long[] v = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            v[i] = ids[i];
        }
        ClipTextOutput o = textEncoder.forward(Tensor.ofLongs(v, 1, v.length));
        if (clipSkip == null) {
            return o.lastHiddenState();
        }
        int index = o.hiddenStates().size() - (clipSkip + 1);
        if (index < 0) {
            throw new IllegalArgumentException("clipSkip (clip_skip) " + clipSkip + " skips more layers than the text"
                    + " encoder has (" + (o.hiddenStates().size() - 1) + ")");
        }
        return textEncoder.finalLayerNorm(o.hiddenStates().get(index));
    }
}
