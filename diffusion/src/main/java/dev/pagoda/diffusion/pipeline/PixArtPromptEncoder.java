package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.t5.T5EncoderModel;
import dev.pagoda.nn.t5.T5Encoding;
import dev.pagoda.nn.t5.T5Tokenizer;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * PixArt-Σ's {@code encode_prompt} with {@code clean_caption=False}: the caption is lower-cased and
 * stripped ({@code _text_preprocessing}), tokenized to {@code max_sequence_length} tokens (padded,
 * truncated, {@code </s>} appended) and run through the T5 encoder with its attention mask. The
 * negative prompt (default "") is encoded the same way, to the positive's length, only with CFG.
 */
public final class PixArtPromptEncoder {

    private static final Logger LOG = Logger.getLogger(PixArtPromptEncoder.class.getName());

    /** Embeddings {@code [1, L, d_model]} and mask {@code [1, L]} (1 = text token) of one prompt. */
    public record Embeds(Tensor embeds, Tensor mask) {
    }

    /** The positive prompt's, and the negative's (null without CFG). */
    public record Encoded(Embeds positive, Embeds negative) {
    }

    private final PixArtComponents components;

    PixArtPromptEncoder(PixArtComponents components) {
        this.components = components;
    }

    /** Python's {@code text.lower().strip()} (Unicode lower case, Unicode whitespace). */
    public static String preprocess(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        int a = 0;
        int b = s.length();
        while (a < b && isPythonSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isPythonSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    /** {@code str.isspace} for one character: bidi class WS, B or S, or category Zs. */
    static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /**
     * @param negative the negative prompt (null means "", as diffusers)
     * @param cfg      whether the negative is needed
     */
    public Encoded encode(String prompt, String negative, boolean cfg, int maxSequenceLength) {
        T5Tokenizer tok = components.tokenizer();
        T5Encoding pos = tok.encode(preprocess(prompt), maxSequenceLength);
        if (pos.truncated()) {
            LOG.warning("The following part of your input was truncated because T5 can only handle sequences up to "
                    + maxSequenceLength + " tokens: " + removedPieces(pos, maxSequenceLength));
        }
        T5Encoding neg = cfg ? tok.encode(preprocess(negative == null ? "" : negative), maxSequenceLength) : null;
        return components.withTextEncoder(te -> new Encoded(run(te, pos), neg == null ? null : run(te, neg)));
    }

    private static String removedPieces(T5Encoding e, int max) {
        java.util.List<String> pieces = e.pieces();
        return pieces.size() > max - 1 ? String.join("", pieces.subList(max - 1, pieces.size())).replace('\u2581', ' ')
                : "";
    }

    private static Embeds run(T5EncoderModel te, T5Encoding e) {
        int[] m = e.attentionMask();
        float[] f = new float[m.length];
        for (int i = 0; i < m.length; i++) {
            f[i] = m[i];
        }
        Tensor mask = Tensor.of(f, 1, m.length);
        Tensor out = te.forward(e.inputIdsTensor(), mask);
        return new Embeds(Backend.cpu().toHost(out), mask);
    }
}
