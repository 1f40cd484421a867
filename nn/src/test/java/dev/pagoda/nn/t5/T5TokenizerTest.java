package dev.pagoda.nn.t5;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.nn.clip.TokenizerException;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The T5 tokenizer on the tiny golden {@code spiece.model}. The golden prompts themselves are
 * checked by the conformance runner (case tokenizers); here: SentencePiece's own encoding of
 * extra texts (sp_encode.json, made by make_reference.py with python3-sentencepiece 0.1.97),
 * padding/truncation, added tokens, and bad model files.
 */
class T5TokenizerTest {

    static Path folder;
    static T5Tokenizer tok;

    @BeforeAll
    static void load() {
        folder = GoldenFixtures.vendored().model("tiny-pixart-sigma").resolve("tokenizer");
        tok = T5Tokenizer.fromPretrained(folder);
    }

    @Test
    @SuppressWarnings("unchecked")
    void unigramEncodingEqualsSentencePiece() throws IOException {
        Map<String, Object> ref;
        try (InputStream in = T5TokenizerTest.class.getResourceAsStream("sp_encode.json")) {
            ref = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        UnigramModel model = new UnigramModel(SentencePieceModel.read(folder.resolve("spiece.model")));
        List<Object> items = (List<Object>) ref.get("items");
        assertTrue(items.size() >= 14);
        for (Object o : items) {
            Map<String, Object> item = (Map<String, Object>) o;
            String text = (String) item.get("text");
            List<UnigramModel.Token> got = model.encode(text);
            assertEquals(item.get("pieces"), got.stream().map(UnigramModel.Token::piece).toList(), text);
            int[] ids = ((List<?>) item.get("ids")).stream().mapToInt(x -> ((Number) x).intValue()).toArray();
            assertArrayEquals(ids, got.stream().mapToInt(UnigramModel.Token::id).toArray(), text);
        }
    }

    @Test
    void emptyPromptIsJustEos() {
        T5Encoding e = tok.encode("", 300);
        assertEquals(300, e.inputIds().length);
        assertEquals(1, e.inputIds()[0]);
        assertEquals(1, e.attentionMask()[0]);
        assertEquals(1, e.length());
        assertArrayEquals(new int[] {1}, e.untruncatedInputIds());
        assertEquals(List.of(), e.pieces());
        assertTrue(Arrays.stream(e.inputIds()).skip(1).allMatch(i -> i == 0));
    }

    @Test
    void whitespaceRunsCollapseAndWhitespaceOnlyIsEmpty() {
        assertArrayEquals(new int[] {1}, tok.encode(" \t\n\u3000 ", 10).untruncatedInputIds());
        assertEquals(tok.encode("a photo", 20), tok.encode("  a \t\t  photo\n\n ", 20));
    }

    @Test
    void unicodeUnknownRunsMergeIntoOneUnknownToken() {
        T5Encoding e = tok.encode("\u65e5\u672c\u8a9e \ud83d\ude80\ud83d\udd25", 10);
        assertEquals(List.of("\u2581", "\u65e5\u672c\u8a9e", "\u2581", "\ud83d\ude80\ud83d\udd25"), e.pieces());
        assertArrayEquals(new int[] {3, 2, 3, 2, 1}, e.untruncatedInputIds());
    }

    @Test
    void longPromptIsTruncatedKeepingEos() {
        String prompt = "a photo of an astronaut ".repeat(80); // 5 pieces each: 400 + eos
        T5Encoding e = tok.encode(prompt, 300);
        assertEquals(401, e.untruncatedInputIds().length);
        assertEquals(300, e.inputIds().length);
        assertEquals(300, e.length());
        assertTrue(e.truncated());
        assertEquals(1, e.inputIds()[299]);
        assertArrayEquals(Arrays.copyOf(e.untruncatedInputIds(), 299), Arrays.copyOf(e.inputIds(), 299));
        assertTrue(Arrays.stream(e.attentionMask()).allMatch(m -> m == 1));
        // exactly at the limit nothing is dropped
        T5Encoding exact = tok.encode("a photo of an astronaut ".repeat(2), 11);
        assertEquals(11, exact.length());
        assertTrue(!exact.truncated());
    }

    @Test
    void sentinelTokensSwallowTheirWhitespaceAndMatchLongestFirst() {
        T5Encoding e = tok.encode("a <extra_id_0> photo<extra_id_10>of", 20);
        assertEquals(List.of("\u2581a", "<extra_id_0>", "\u2581photo", "<extra_id_10>", "\u2581of"), e.pieces());
        assertArrayEquals(new int[] {66, 399, 130, 389, 55, 1}, e.untruncatedInputIds());
    }

    @Test
    void typedEosIsNotDoubled() {
        assertArrayEquals(new int[] {66, 1}, tok.encode("a</s>", 5).untruncatedInputIds());
        assertArrayEquals(new int[] {66, 1, 130, 1}, tok.encode("a</s> photo", 5).untruncatedInputIds());
        assertArrayEquals(new int[] {0, 66, 1}, tok.encode("<pad>a", 5).untruncatedInputIds());
    }

    @Test
    void truncatedModelFileIsANamedError(@TempDir Path dir) throws IOException {
        byte[] full = Files.readAllBytes(folder.resolve("spiece.model"));
        for (int cut : new int[] {1, 7, full.length / 3, full.length / 2, full.length - 1}) {
            Path d = Files.createDirectories(dir.resolve("cut" + cut));
            Files.write(d.resolve("spiece.model"), Arrays.copyOf(full, cut));
            TokenizerException e = assertThrows(TokenizerException.class, () -> T5Tokenizer.fromPretrained(d),
                    "cut at " + cut);
            assertTrue(e.getMessage().contains("spiece.model") && e.getMessage().contains("not a SentencePiece model"),
                    e.getMessage());
        }
    }

    @Test
    void otherFilesAreNamedErrors(@TempDir Path dir) throws IOException {
        Files.copy(folder.resolve("tokenizer_config.json"), dir.resolve("spiece.model"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> T5Tokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains("not a SentencePiece model"), e.getMessage());
        Files.write(dir.resolve("spiece.model"), new byte[0]);
        e = assertThrows(TokenizerException.class, () -> T5Tokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains("spiece.model"), e.getMessage());
        Files.delete(dir.resolve("spiece.model"));
        e = assertThrows(TokenizerException.class, () -> T5Tokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains("spiece.model"), e.getMessage());
    }

    @Test
    void nonLegacyConfigIsRefused(@TempDir Path dir) throws IOException {
        Files.copy(folder.resolve("spiece.model"), dir.resolve("spiece.model"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"legacy\": false}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> T5Tokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
    }

    @Test
    void folderWithoutConfigUsesTransformersDefaults(@TempDir Path dir) throws IOException {
        Files.copy(folder.resolve("spiece.model"), dir.resolve("spiece.model"));
        T5Tokenizer plain = T5Tokenizer.fromPretrained(dir);
        for (String p : List.of("a photo of an astronaut", "x <extra_id_99> y <extra_id_5>", "")) {
            assertEquals(tok.encode(p, 40), plain.encode(p, 40), p);
        }
    }
}
