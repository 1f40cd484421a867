package dev.pagoda.nn.clip;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2/CLIP byte-level alphabet: every UTF-8 byte is written as one visible character, so BPE
 * symbols never contain whitespace or control characters. Printable Latin-1 bytes stand for
 * themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) are moved, in byte
 * order, to U+0100..U+0143.
 */
final class ByteLevelAlphabet {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int moved = 0;
        for (int b = 0; b < 256; b++) {
            boolean visible = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = visible ? (char) b : (char) (256 + moved++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The character standing for byte {@code b} (0..255). */
    static char symbol(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The UTF-8 bytes of {@code text}, one alphabet character per byte. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * The bytes spelled by alphabet characters, decoded as UTF-8 with Python's errors="replace":
     * each maximal invalid subpart becomes one U+FFFD.
     *
     * @throws IllegalArgumentException for a character outside the alphabet
     */
    static String decode(CharSequence symbols) {
        byte[] bytes = new byte[symbols.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = symbols.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                throw new IllegalArgumentException("decode: character U+" + String.format("%04X", (int) c)
                        + " in token text \"" + symbols + "\" is not a byte-level BPE symbol");
            }
            bytes[i] = (byte) b;
        }
        return decodeUtf8(bytes);
    }

    /**
     * UTF-8 decoding that replaces every maximal subpart of an ill-formed sequence (Unicode
     * Table 3-7) by one U+FFFD, as CPython does. The JDK decoder groups some ill-formed bytes
     * differently (ED A5 gives one U+FFFD there, two in Python).
     */
    static String decodeUtf8(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        int i = 0;
        while (i < bytes.length) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                lo = b0 == 0xE0 ? 0xA0 : 0x80;
                hi = b0 == 0xED ? 0x9F : 0xBF;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                lo = b0 == 0xF0 ? 0x90 : 0x80;
                hi = b0 == 0xF4 ? 0x8F : 0xBF;
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int b = j < bytes.length ? bytes[j] & 0xFF : -1;
                // Only the first continuation byte has a narrowed range.
                int min = k == 0 ? lo : 0x80;
                int max = k == 0 ? hi : 0xBF;
                if (b < min || b > max) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (ok) {
                out.appendCodePoint(cp);
            } else {
                out.append('\uFFFD');
            }
            i = j;
        }
        return out.toString();
    }
}
