package dev.pagoda.nn.t5;

import dev.pagoda.nn.clip.TokenizerException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * SentencePiece's {@code Normalizer::Normalize} on UTF-8 bytes: the precompiled character map
 * (a darts-clone double-array trie of source byte strings whose values point into a blob of
 * NUL-terminated replacements, e.g. NFKC plus the NMT rules), longest match first; then removal of
 * leading, trailing and repeated spaces, the dummy prefix, and spaces escaped as U+2581 ("▁").
 * User-defined pieces are copied unnormalised, as the reference's prefix matcher does.
 */
final class SentencePieceNormalizer {

    static final String SPACE_SYMBOL = "\u2581";
    private static final byte[] SPACE = SPACE_SYMBOL.getBytes(StandardCharsets.UTF_8);
    private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private final int[] units;
    private final byte[] replacements;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final boolean whitespaceAsSuffix;
    private final PieceTrie userDefined;

    SentencePieceNormalizer(SentencePieceModel model, List<byte[]> userDefinedPieces) {
        SentencePieceModel.NormalizerSpec spec = model.normalizerSpec();
        this.addDummyPrefix = spec.addDummyPrefix();
        this.removeExtraWhitespaces = spec.removeExtraWhitespaces();
        this.escapeWhitespaces = spec.escapeWhitespaces();
        this.whitespaceAsSuffix = model.treatWhitespaceAsSuffix();
        this.userDefined = new PieceTrie();
        for (int i = 0; i < userDefinedPieces.size(); i++) {
            userDefined.add(userDefinedPieces.get(i), i);
        }
        byte[] blob = spec.precompiledCharsmap();
        if (blob == null) {
            units = null;
            replacements = null;
        } else {
            Path file = model.file();
            if (blob.length < 4) {
                throw new TokenizerException(file, "precompiled_charsmap of " + blob.length + " bytes has no header");
            }
            long trieSize = (blob[0] & 0xFFL) | (blob[1] & 0xFFL) << 8 | (blob[2] & 0xFFL) << 16 | (blob[3] & 0xFFL) << 24;
            if (trieSize % 4 != 0 || trieSize > blob.length - 4 || trieSize == 0) {
                throw new TokenizerException(file, "precompiled_charsmap: trie size " + trieSize
                        + " does not fit its " + blob.length + "-byte blob");
            }
            units = new int[(int) (trieSize / 4)];
            for (int i = 0; i < units.length; i++) {
                int p = 4 + 4 * i;
                units[i] = (blob[p] & 0xFF) | (blob[p + 1] & 0xFF) << 8 | (blob[p + 2] & 0xFF) << 16 | (blob[p + 3] & 0xFF) << 24;
            }
            replacements = java.util.Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
        }
    }

    /** The normalised UTF-8 bytes of {@code text}. */
    byte[] normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        int pos = 0;
        int[] consumed = new int[1];
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                byte[] r = normalizePrefix(in, pos, consumed);
                if (!(r.length == 1 && r[0] == ' ')) {
                    break;
                }
                pos += consumed[0];
            }
        }
        if (pos >= in.length) {
            return new byte[0];
        }
        if (!whitespaceAsSuffix && addDummyPrefix) {
            appendSpace(out);
        }
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            byte[] r = normalizePrefix(in, pos, consumed);
            int from = 0;
            while (prevSpace && from < r.length && r[from] == ' ') {
                from++;
            }
            if (from < r.length) {
                for (int n = from; n < r.length; n++) {
                    if (escapeWhitespaces && r[n] == ' ') {
                        out.writeBytes(SPACE);
                    } else {
                        out.write(r[n]);
                    }
                }
                prevSpace = r[r.length - 1] == ' ';
            }
            pos += consumed[0];
            prevSpace = prevSpace && removeExtraWhitespaces;
        }
        byte[] result = out.toByteArray();
        int len = result.length;
        if (removeExtraWhitespaces) {
            byte[] space = escapeWhitespaces ? SPACE : new byte[] {' '};
            while (len >= space.length && endsWith(result, len, space)) {
                len -= space.length;
            }
        }
        ByteArrayOutputStream tail = new ByteArrayOutputStream(len + 3);
        tail.write(result, 0, len);
        if (whitespaceAsSuffix && addDummyPrefix) {
            appendSpace(tail);
        }
        return tail.toByteArray();
    }

    private void appendSpace(ByteArrayOutputStream out) {
        if (escapeWhitespaces) {
            out.writeBytes(SPACE);
        } else {
            out.write(' ');
        }
    }

    private static boolean endsWith(byte[] a, int len, byte[] suffix) {
        for (int i = 0; i < suffix.length; i++) {
            if (a[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code NormalizePrefix}: the replacement for the longest match at {@code pos} and the number
     * of input bytes it consumes; an unmatched character is copied, a malformed byte becomes U+FFFD.
     */
    private byte[] normalizePrefix(byte[] in, int pos, int[] consumed) {
        int user = userDefined.longestMatch(in, pos);
        if (user > 0) {
            consumed[0] = user;
            return java.util.Arrays.copyOfRange(in, pos, pos + user);
        }
        if (units != null) {
            long match = longestCharsmapMatch(in, pos);
            if (match >= 0) {
                consumed[0] = (int) (match >>> 32);
                int start = (int) match;
                int end = start;
                while (end < replacements.length && replacements[end] != 0) {
                    end++;
                }
                return java.util.Arrays.copyOfRange(replacements, start, end);
            }
        }
        int n = utf8Length(in, pos);
        if (n == 0) {
            consumed[0] = 1;
            return REPLACEMENT;
        }
        consumed[0] = n;
        return java.util.Arrays.copyOfRange(in, pos, pos + n);
    }

    /**
     * darts-clone {@code commonPrefixSearch} keeping the longest hit: {@code length << 32 | value},
     * or -1. Unit layout: bit 8 = has leaf, low 31 bits = value (of a leaf unit), label = bits 0-7
     * plus bit 31, offset = {@code (unit >>> 10) << ((unit & 1 << 9) >>> 6)}.
     */
    private long longestCharsmapMatch(byte[] key, int pos) {
        long best = -1;
        int node = 0;
        node ^= offset(unit(0));
        for (int i = pos; i < key.length; i++) {
            int c = key[i] & 0xFF;
            node ^= c;
            if (node < 0 || node >= units.length) {
                return best;
            }
            int u = units[node];
            if ((u & (0x80000000 | 0xFF)) != c) {
                return best;
            }
            node ^= offset(u);
            if (((u >>> 8) & 1) != 0) {
                if (node < 0 || node >= units.length) {
                    return best;
                }
                int value = units[node] & 0x7FFFFFFF;
                if (value >= replacements.length) {
                    throw new IllegalStateException("precompiled_charsmap: value " + value
                            + " points outside the " + replacements.length + "-byte replacement blob");
                }
                best = ((long) (i - pos + 1) << 32) | value;
            }
        }
        return best;
    }

    private int unit(int i) {
        return units[i];
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /** Length of the well-formed UTF-8 character at {@code pos}, or 0 if malformed. */
    static int utf8Length(byte[] s, int pos) {
        int b = s[pos] & 0xFF;
        int n = b < 0x80 ? 1 : b < 0xC2 ? 0 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF5 ? 4 : 0;
        if (n == 0 || pos + n > s.length) {
            return 0;
        }
        for (int i = 1; i < n; i++) {
            if ((s[pos + i] & 0xC0) != 0x80) {
                return 0;
            }
        }
        if (n == 3) {
            int c = (b & 0x0F) << 12 | (s[pos + 1] & 0x3F) << 6 | (s[pos + 2] & 0x3F);
            if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF)) {
                return 0;
            }
        } else if (n == 4) {
            int c = (b & 0x07) << 18 | (s[pos + 1] & 0x3F) << 12 | (s[pos + 2] & 0x3F) << 6 | (s[pos + 3] & 0x3F);
            if (c < 0x10000 || c > 0x10FFFF) {
                return 0;
            }
        }
        return n;
    }
}
