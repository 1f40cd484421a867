package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTextOutput;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * SDXL's {@code encode_prompt}: each prompt goes through both CLIP tokenizers and encoders; the
 * conditioning is the two encoders' penultimate hidden states (not final-normed) concatenated on the
 * channel axis, and the pooled embedding is encoder 2's projected pooled output. With CFG the negative
 * prompt is encoded the same way, except that a missing negative prompt gives all-zero embeddings when
 * the model says so ({@code force_zeros_for_empty_prompt}), whatever {@code negative2} is; an explicit
 * empty negative prompt is encoded. As diffusers' {@code prompt_2 or prompt}, a null or empty second
 * prompt means "the same as the first".
 *
 * <p>The refiner layout (no first encoder): as diffusers' loop that zips the prompts {@code [prompt,
 * prompt_2]} with the one remaining encoder, encoder 2 gets the <em>first</em> prompt (and the first
 * negative prompt); {@code prompt_2} and {@code negative_prompt_2} are not used. The conditioning is
 * then encoder 2's penultimate hidden state alone.
 */
public final class SdxlPromptEncoder {

    /** One side of the conditioning: {@code embeds[1, 77, C1+C2]}, {@code pooled[1, P]}. */
    public record Embeddings(Tensor embeds, Tensor pooled) {
    }

    /** Positive and (with CFG) negative conditioning; {@code negative} is null without CFG. */
    public record Encoded(Embeddings positive, Embeddings negative) {
    }

    private final ClipTokenizer tokenizer;
    private final ClipTokenizer tokenizer2;
    private final ClipTextModel textEncoder;
    private final ClipTextModel textEncoder2;
    private final boolean forceZerosForEmptyPrompt;

    public SdxlPromptEncoder(ClipTokenizer tokenizer, ClipTokenizer tokenizer2, ClipTextModel textEncoder,
            ClipTextModel textEncoder2, boolean forceZerosForEmptyPrompt) {
        if ((tokenizer == null) != (textEncoder == null)) {
            throw new IllegalArgumentException("tokenizer and text_encoder must both be given or both be null");
        }
        if (!textEncoder2.hasProjection()) {
            throw new IllegalArgumentException("SDXL's text_encoder_2 must be a CLIPTextModelWithProjection");
        }
        this.tokenizer = tokenizer;
        this.tokenizer2 = tokenizer2;
        this.textEncoder = textEncoder;
        this.textEncoder2 = textEncoder2;
        this.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
    }

    /**
     * @param prompt          the prompt for encoder 1 (in the refiner layout: for encoder 2)
     * @param prompt2         the prompt for encoder 2 (null or empty: same as {@code prompt}; unused in the
     *                        refiner layout)
     * @param negative        the negative prompt (null: none, zero embeddings where the model forces them)
     * @param negative2       the negative prompt for encoder 2 (null or empty: same as {@code negative})
     * @param cfg             whether classifier-free guidance needs the negative side
     */
    public Encoded encode(String prompt, String prompt2, String negative, String negative2, boolean cfg) {
        return encode(List.of(prompt), java.util.Collections.singletonList(prompt2),
                java.util.Collections.singletonList(negative), java.util.Collections.singletonList(negative2),
                negative == null, cfg, null);
    }

    /**
     * A batch of prompts (diffusers' {@code encode_prompt} with lists): row {@code b} of each output is
     * prompt {@code b}'s conditioning, {@code embeds[B, 77, C1+C2]}, {@code pooled[B, P]}.
     *
     * @param prompts     encoder 1's prompts
     * @param prompts2    encoder 2's, entry-wise {@code prompt_2 or prompt}
     * @param negatives   the negative prompts (entries null or empty: "")
     * @param negatives2  encoder 2's negatives, entry-wise {@code negative_prompt_2 or negative_prompt}
     * @param noNegative  diffusers' {@code negative_prompt is None}: zeros where the model forces them
     * @param clipSkip    {@code clip_skip} for the positive prompts (null: the penultimate layer); the
     *                    negatives always use the penultimate layer, as diffusers
     */
    public Encoded encode(List<String> prompts, List<String> prompts2, List<String> negatives,
            List<String> negatives2, boolean noNegative, boolean cfg, Integer clipSkip) {
        int b = prompts.size();
        Embeddings[] pos = new Embeddings[b];
        for (int i = 0; i < b; i++) {
            pos[i] = encodeOne(prompts.get(i), or(prompts2.get(i), prompts.get(i)), clipSkip);
        }
        Embeddings positive = stack(pos);
        if (!cfg) {
            return new Encoded(positive, null);
        }
        if (noNegative && forceZerosForEmptyPrompt) {
            return new Encoded(positive, zerosLike(positive));
        }
        Embeddings[] neg = new Embeddings[b];
        for (int i = 0; i < b; i++) {
            String n1 = or(negatives.get(i), "");
            neg[i] = encodeOne(n1, or(negatives2.get(i), n1), null);
        }
        return new Encoded(positive, stack(neg));
    }

    /** The all-zero negative of diffusers' {@code force_zeros_for_empty_prompt}, shaped as {@code positive}. */
    public static Embeddings zerosLike(Embeddings positive) {
        return new Embeddings(Tensor.zeros(positive.embeds().shape()), Tensor.zeros(positive.pooled().shape()));
    }

    public boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    private static Embeddings stack(Embeddings[] rows) {
        if (rows.length == 1) {
            return rows[0];
        }
        Tensor[] e = new Tensor[rows.length];
        Tensor[] p = new Tensor[rows.length];
        for (int i = 0; i < rows.length; i++) {
            e[i] = rows[i].embeds();
            p[i] = rows[i].pooled();
        }
        return new Embeddings(Backend.cpu().concat(0, e), Backend.cpu().concat(0, p));
    }

    /** Python's {@code x or y} for optional strings: null and "" are falsy. */
    private static String or(String x, String y) {
        return x == null || x.isEmpty() ? y : x;
    }

    private Embeddings encodeOne(String p1, String p2, Integer clipSkip) {
        if (textEncoder == null) {
            // the refiner layout: diffusers zips [prompt, prompt_2] with [tokenizer_2], so only the first prompt
            ClipTextOutput o = textEncoder2.forward(ids(tokenizer2, p1));
            return new Embeddings(skipped(o, clipSkip, "text_encoder_2"), o.textEmbeds());
        }
        ClipTextOutput o1 = textEncoder.forward(ids(tokenizer, p1));
        ClipTextOutput o2 = textEncoder2.forward(ids(tokenizer2, p2));
        Tensor embeds = Backend.cpu().concat(2, skipped(o1, clipSkip, "text_encoder"),
                skipped(o2, clipSkip, "text_encoder_2"));
        return new Embeddings(embeds, o2.textEmbeds());
    }

    /** {@code hidden_states[-(clip_skip + 2)]} (clip_skip null: {@code [-2]}). */
    private static Tensor skipped(ClipTextOutput o, Integer clipSkip, String encoder) {
        if (clipSkip == null) {
            return o.penultimateHiddenState();
        }
        int index = o.hiddenStates().size() - (clipSkip + 2);
        if (index < 0) {
            throw new IllegalArgumentException("clipSkip (clip_skip) " + clipSkip + " skips more layers than "
                    + encoder + " has (" + (o.hiddenStates().size() - 1) + " layers: at most "
                    + (o.hiddenStates().size() - 2) + ")");
        }
        return o.hiddenStates().get(index);
    }

    private static Tensor ids(ClipTokenizer tok, String prompt) {
        int[] ids = tok.encode(prompt).inputIds();
        long[] v = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            v[i] = ids[i];
        }
        return Tensor.ofLongs(v, 1, v.length);
    }
}
