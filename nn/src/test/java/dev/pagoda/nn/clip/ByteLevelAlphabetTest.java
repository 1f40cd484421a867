package dev.pagoda.nn.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByteLevelAlphabetTest {

    @Test
    void everyByteHasItsOwnVisibleCharacter() {
        Set<Character> seen = new HashSet<>();
        int moved = 0;
        for (int b = 0; b < 256; b++) {
            char c = ByteLevelAlphabet.symbol(b);
            assertTrue(seen.add(c), "byte " + b + " shares its character");
            boolean visible = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            // Visible Latin-1 stands for itself; the rest move, in byte order, to U+0100...
            assertEquals(visible ? b : 0x100 + moved++, (int) c, "byte " + b);
        }
        assertEquals(68, moved);
        assertEquals("a\u0120b", ByteLevelAlphabet.encode("a b"));
        assertEquals("\u00C3\u00A9", ByteLevelAlphabet.encode("\u00E9"));
        assertEquals("\u00F0\u0141\u0132\u00B1", ByteLevelAlphabet.encode("\uD83D\uDC31"));
        assertEquals("a b \u00E9 \uD83D\uDC31", ByteLevelAlphabet.decode(ByteLevelAlphabet.encode("a b \u00E9 \uD83D\uDC31")));
    }

    @Test
    void invalidUtf8IsReplacedPerMaximalSubpartLikePython() {
        // Expected strings are what Python's bytes.decode("utf-8", errors="replace") gives.
        assertEquals("\uFFFD\uFFFD", utf8(0xED, 0xA5));
        assertEquals("\uFFFD", utf8(0xE2, 0x82));
        assertEquals("\uFFFDa", utf8(0xE2, 0x82, 'a'));
        assertEquals("\uD83D\uDE00", utf8(0xF0, 0x9F, 0x98, 0x80));
        assertEquals("\uFFFD\uFFFD", utf8(0xC0, 0x80));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", utf8(0xF4, 0x90, 0x80, 0x80));
        assertEquals("\uFFFD", utf8(0xF0, 0x9F, 0x98));
        assertEquals("\uFFFD\uFFFD", utf8(0x80, 0xBF));
        assertEquals("a\uFFFDb", utf8('a', 0xFF, 'b'));
    }

    @Test
    void decodeRejectsCharactersOutsideTheAlphabet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteLevelAlphabet.decode("a\u4e00"));
        assertTrue(e.getMessage().contains("U+4E00"), e.getMessage());
    }

    private static String utf8(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return ByteLevelAlphabet.decodeUtf8(b);
    }
}
