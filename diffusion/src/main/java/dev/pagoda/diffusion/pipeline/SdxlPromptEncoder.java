package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTextOutput;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;

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
        Embeddings pos = encodeOne(prompt, or(prompt2, prompt));
        if (!cfg) {
            return new Encoded(pos, null);
        }
        Embeddings neg;
        if (negative == null && forceZerosForEmptyPrompt) {
            neg = new Embeddings(Tensor.zeros(pos.embeds().shape()), Tensor.zeros(pos.pooled().shape()));
        } else {
            String n1 = negative == null ? "" : negative;
            neg = encodeOne(n1, or(negative2, n1));
        }
        return new Encoded(pos, neg);
    }

    /** Python's {@code x or y} for optional strings: null and "" are falsy. */
    private static String or(String x, String y) {
        return x == null || x.isEmpty() ? y : x;
    }

    private Embeddings encodeOne(String p1, String p2) {
        if (textEncoder == null) {
            ClipTextOutput o = textEncoder2.forward(ids(tokenizer2, p1));
            return new Embeddings(o.penultimateHiddenState(), o.textEmbeds());
        }
        ClipTextOutput o1 = textEncoder.forward(ids(tokenizer, p1));
        ClipTextOutput o2 = textEncoder2.forward(ids(tokenizer2, p2));
        Tensor embeds = Backend.cpu().concat(2, o1.penultimateHiddenState(), o2.penultimateHiddenState());
        return new Embeddings(embeds, o2.textEmbeds());
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
