package dev.pagoda.nn.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Expected strings are what transformers' BasicTokenizer path (Python 3.11) gives. */
class ClipTextNormalizerTest {

    @Test
    void cleansControlCharactersAndCollapsesWhitespace() {
        assertEquals("a b c d", ClipTextNormalizer.normalize("  a\tb\u0000\r\nc\u00a0\u3000d \u200b"));
        assertEquals("ab", ClipTextNormalizer.normalize("a\u0007\ufffd\ue000b"));
        assertEquals("x y", ClipTextNormalizer.normalize("x\u2028y"));
        assertEquals("", ClipTextNormalizer.normalize(" \t\n "));
    }

    @Test
    void spacesCjkIdeographsButNotKana() {
        assertEquals("日 本 語 のテキスト", ClipTextNormalizer.normalize("日本語のテキスト"));
    }

    @Test
    void composesToNfcAndKeepsAccents() {
        assertEquals("é", ClipTextNormalizer.normalize("e\u0301"));
        assertEquals("ﬁ ½", ClipTextNormalizer.normalize("ﬁ ½"));
    }

    @Test
    void lowerCasesLikePythonIncludingFinalSigma() {
        assertEquals("i\u0307stanbul straße", ClipTextNormalizer.normalize("İSTANBUL STRAßE"));
        assertEquals("οδος σας", ClipTextNormalizer.normalize("ΟΔΟΣ ΣΑΣ"));
        assertEquals("οδος.", ClipTextNormalizer.normalize("ΟΔΟΣ."));
        // '.' is case-ignorable: the sigma in "σΣ.D" is followed by a cased letter, so not final
        // (Java's word-boundary rule would make it final).
        assertEquals("σσ.d", ClipTextNormalizer.normalize("σΣ.D"));
        assertEquals("σ", ClipTextNormalizer.normalize("Σ"));
        // NFC first: alpha + combining acute composes to U+0386, then lower-cases to U+03AC.
        assertEquals("\u03AC\u03C2", ClipTextNormalizer.normalize("\u0391\u0301\u03A3"));
    }
}
