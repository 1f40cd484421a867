package dev.pagoda.nn.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BytePairEncoderTest {

    @TempDir
    Path tmp;

    private BytePairEncoder merges(String... lines) throws IOException {
        Path file = tmp.resolve("merges.txt");
        Files.writeString(file, "#version: 0.2\n" + String.join("\n", lines) + "\n");
        return BytePairEncoder.read(file);
    }

    @Test
    void lowestRankedPairMergesFirstEverywhereLeftToRight() throws IOException {
        // Rank 0 "a a" merges the first two a's of "aaa", leaving the third alone (no overlap).
        BytePairEncoder bpe = merges("a a", "aa a</w>", "b c</w>");
        assertEquals(List.of("aa", "a</w>"), merges("a a").encode("aaa"));
        assertEquals(List.of("aaa</w>"), bpe.encode("aaa"));
        assertEquals(List.of("aa", "aa", "b", "c</w>"), merges("a a").encode("aaaabc"));
        // Rank decides, not position: "b c</w>" (rank 2) merges although "a a" would come first in the word.
        assertEquals(List.of("aa", "bc</w>"), bpe.encode("aabc"));
    }

    @Test
    void singleCharacterWordOnlyGetsTheEndMarker() throws IOException {
        assertEquals(List.of("x</w>"), merges("a b").encode("x"));
    }

    @Test
    void repeatedMergeLineTakesItsLaterRank() throws IOException {
        // "a b" appears at ranks 0 and 2; "b c</w>" at 1. As in a Python dict built from the
        // lines, "a b" ends with rank 2, so "b c</w>" wins in "abc".
        BytePairEncoder bpe = merges("a b", "b c</w>", "a b");
        assertEquals(List.of("a", "bc</w>"), bpe.encode("abc"));
        assertEquals(List.of("ab", "c</w>"), merges("a b", "b c</w>").encode("abc"));
    }

    @Test
    void cacheReturnsTheSameResultAndStaysBounded() throws IOException {
        BytePairEncoder bpe = merges("a b</w>");
        List<String> first = bpe.encode("ab");
        assertSame(first, bpe.encode("ab"));
        int n = BytePairEncoder.cacheCapacity() + 100;
        for (int i = 0; i < n; i++) {
            bpe.encode("w" + i);
        }
        assertTrue(bpe.cachedWords() <= BytePairEncoder.cacheCapacity(), "cache holds " + bpe.cachedWords());
        assertEquals(List.of("ab</w>"), bpe.encode("ab"));
    }

    @Test
    void onlyTheFirstMergesTransformersReadsAreUsed() throws IOException {
        StringBuilder lines = new StringBuilder("#version: 0.2\n");
        for (int i = 0; i < BytePairEncoder.MAX_MERGES; i++) {
            lines.append("q").append(i).append(" z\n");
        }
        lines.append("a b\n");
        Path file = tmp.resolve("long-merges.txt");
        Files.writeString(file, lines);
        BytePairEncoder bpe = BytePairEncoder.read(file);
        assertEquals(BytePairEncoder.MAX_MERGES, bpe.size());
        assertEquals(List.of("a", "b</w>"), bpe.encode("ab"));
    }
}
