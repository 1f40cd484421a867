package dev.pagoda.nn.clip;

import java.text.Normalizer;

/**
 * The text clean-up CLIPTokenizer applies when ftfy is not installed (transformers'
 * {@code BasicTokenizer} with {@code strip_accents=False, do_split_on_punc=False} and no
 * never-split list), step for step:
 * <ol>
 *   <li>drop NUL, U+FFFD and every "other" (C*) character except tab, LF and CR; turn tab, LF, CR
 *       and space separators (Zs) into a plain space;</li>
 *   <li>put a space on both sides of every CJK ideograph;</li>
 *   <li>NFC;</li>
 *   <li>split on Python's whitespace (which also catches U+2028/U+2029), lower-case each piece and
 *       join the pieces with one space.</li>
 * </ol>
 * Accents are kept and punctuation is not split off here; CLIP's pre-tokenisation pattern does
 * that afterwards.
 */
final class ClipTextNormalizer {

    private ClipTextNormalizer() {
    }

    static String normalize(String text) {
        StringBuilder cleaned = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isBasicWhitespace(cp)) {
                cleaned.append(' ');
            } else if (isCjkIdeograph(cp)) {
                cleaned.append(' ').appendCodePoint(cp).append(' ');
            } else {
                cleaned.appendCodePoint(cp);
            }
        });
        String nfc = Normalizer.normalize(cleaned, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        int i = 0;
        int n = nfc.length();
        while (i < n) {
            while (i < n && isPythonSpace(nfc.codePointAt(i))) {
                i += Character.charCount(nfc.codePointAt(i));
            }
            int start = i;
            while (i < n && !isPythonSpace(nfc.codePointAt(i))) {
                i += Character.charCount(nfc.codePointAt(i));
            }
            if (i > start) {
                if (!out.isEmpty()) {
                    out.append(' ');
                }
                // Each whitespace-separated piece is lower-cased on its own, which matters for the
                // final sigma rule: it looks at the neighbouring letters.
                pythonLower(nfc, start, i, out);
            }
        }
        return out.toString();
    }

    /**
     * Python's {@code str.lower()} of {@code s[start, end)}, appended to {@code out}: the full
     * lowercase mapping (U+0130 becomes "i\u0307") and Python's final-sigma rule, which differs
     * from Java's {@code toLowerCase}: capital sigma becomes final sigma when a cased letter
     * precedes it and none follows, skipping case-ignorable characters (marks, modifiers, and
     * word-internal punctuation such as {@code . : '}) in both directions; Java looks at word
     * boundaries instead.
     */
    static void pythonLower(String s, int start, int end, StringBuilder out) {
        for (int i = start; i < end; ) {
            int cp = s.codePointAt(i);
            if (cp == 0x03A3) {
                out.append(isFinalSigma(s, start, end, i) ? '\u03C2' : '\u03C3');
            } else if (cp == 0x0130) {
                out.append("i\u0307");
            } else {
                out.appendCodePoint(Character.toLowerCase(cp));
            }
            i += Character.charCount(cp);
        }
    }

    private static boolean isFinalSigma(String s, int start, int end, int sigma) {
        int j = sigma;
        int before = -1;
        while (j > start) {
            int c = s.codePointBefore(j);
            j -= Character.charCount(c);
            if (!isCaseIgnorable(c)) {
                before = c;
                break;
            }
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        for (j = sigma + 1; j < end; ) {
            int c = s.codePointAt(j);
            if (!isCaseIgnorable(c)) {
                return !isCased(c);
            }
            j += Character.charCount(c);
        }
        return true;
    }

    /** Unicode's Cased property: Lowercase, Uppercase or titlecase letter. */
    private static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /**
     * Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet
     * or Single_Quote.
     */
    private static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT,
                 Character.MODIFIER_LETTER, Character.MODIFIER_SYMBOL -> {
                return true;
            }
            default -> {
            }
        }
        return switch (cp) {
            case 0x0027, // Single_Quote
                 0x002E, 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E, // MidNumLet
                 0x003A, 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A -> true; // MidLetter
            default -> false;
        };
    }

    /** transformers' {@code _is_control}: any C* category except tab, LF and CR. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                 Character.UNASSIGNED -> true;
            default -> false;
        };
    }

    /** transformers' {@code _is_whitespace}: space, tab, LF, CR and the Zs category. */
    static boolean isBasicWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
                || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** The CJK Unified Ideograph blocks BasicTokenizer surrounds with spaces. */
    static boolean isCjkIdeograph(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /**
     * Python's {@code str.isspace()}, which {@code str.split()} and {@code str.strip()} use:
     * bidirectional class WS, B or S, or category Zs. Java's {@code Character.isWhitespace}
     * differs (it excludes no-break spaces, for one).
     */
    static boolean isPythonSpace(int cp) {
        return switch (cp) {
            case '\t', '\n', 0x0B, 0x0C, '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680,
                 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Python's {@code str.strip()}. */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (end > start && isPythonSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    /** Python's {@code str.lstrip()}. */
    static String pythonLstrip(String s) {
        int start = 0;
        while (start < s.length() && isPythonSpace(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        return s.substring(start);
    }

    /** Python's {@code str.rstrip()}. */
    static String pythonRstrip(String s) {
        int end = s.length();
        while (end > 0 && isPythonSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(0, end);
    }
}
