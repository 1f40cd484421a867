package dev.pagoda.nn.clip;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class ClipTokenizerTest {

    private static Path golden;
    private static Map<String, Object> tokenizersCase;
    private static ClipTokenizer tokenizer;
    private static ClipTokenizer tokenizer2;

    @BeforeAll
    static void load() throws IOException {
        golden = GoldenFixtures.vendored().root();
        tokenizersCase = Json.parseObject(Files.readString(golden.resolve("cases/tokenizers/case.json")));
        tokenizer = ClipTokenizer.fromFolder(modelFolder("tokenizer"));
        tokenizer2 = ClipTokenizer.fromFolder(modelFolder("tokenizer_2"));
    }

    private static Path modelFolder(String name) {
        return golden.resolve("models/tiny-sdxl").resolve(name);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> items() {
        return (List<Map<String, Object>>) tokenizersCase.get("items");
    }

    private static int[] ints(Object jsonArray) {
        return ((List<?>) jsonArray).stream().mapToInt(o -> ((Long) o).intValue()).toArray();
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object jsonArray) {
        return (List<String>) jsonArray;
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenPromptTokenizesExactlyWithBothTokenizers() {
        assertEquals(25, items().size(), "the tokenizers case lists 25 prompts");
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("tokenizer", "tokenizer_2")) {
            ClipTokenizer tok = name.equals("tokenizer") ? tokenizer : tokenizer2;
            for (int i = 0; i < items().size(); i++) {
                Map<String, Object> item = items().get(i);
                String prompt = (String) item.get("prompt");
                @SuppressWarnings("unchecked")
                Map<String, Object> expected = (Map<String, Object>) item.get(name);
                tests.add(dynamicTest(name + " #" + i + " " + abbreviate(prompt), () -> {
                    ClipEncoding e = tok.encode(prompt);
                    assertEquals(strings(expected.get("bpe_tokens")), e.bpeTokens(), "bpe_tokens");
                    assertArrayEquals(ints(expected.get("untruncated_input_ids")), e.untruncatedInputIds(),
                            "untruncated_input_ids");
                    assertArrayEquals(ints(expected.get("input_ids")), e.inputIds(), "input_ids");
                }));
            }
        }
        return tests.stream();
    }

    private static String abbreviate(String s) {
        String oneLine = s.replace("\n", "\\n").replace("\t", "\\t");
        return oneLine.length() <= 40 ? oneLine : oneLine.substring(0, 40) + "...";
    }

    @Test
    @SuppressWarnings("unchecked")
    void specialTokenIdsMatchTheCaseSettings() {
        Map<String, Object> settings = (Map<String, Object>) tokenizersCase.get("tokenizer_settings");
        for (String name : List.of("tokenizer", "tokenizer_2")) {
            ClipTokenizer tok = name.equals("tokenizer") ? tokenizer : tokenizer2;
            Map<String, Object> s = (Map<String, Object>) settings.get(name);
            assertEquals(((Long) s.get("model_max_length")).intValue(), tok.maxLength(), name);
            assertEquals(((Long) s.get("vocab_size")).intValue(), tok.vocabSize(), name);
            assertEquals(((Long) ((List<?>) s.get("bos")).get(1)).intValue(), tok.bosId(), name);
            assertEquals(((Long) ((List<?>) s.get("eos")).get(1)).intValue(), tok.eosId(), name);
            assertEquals(((Long) ((List<?>) s.get("pad")).get(1)).intValue(), tok.padId(), name);
            for (String key : List.of("bos", "eos", "pad", "unk")) {
                List<?> token = (List<?>) s.get(key);
                assertEquals(((Long) token.get(1)).intValue(), tok.tokenId((String) token.get(0)), name + " " + key);
            }
        }
        assertEquals(49407, tokenizer.padId());
        assertEquals(0, tokenizer2.padId());
    }

    // ---- truncation -------------------------------------------------------------------------

    @Test
    void longPromptIsTruncatedToBosFirst75EosWithAWarningNamingTheDroppedText() {
        String prompt = items().stream().map(i -> (String) i.get("prompt"))
                .filter(p -> p.startsWith("an extremely detailed")).findFirst().orElseThrow();
        List<LogRecord> records = new ArrayList<>();
        Logger logger = Logger.getLogger(ClipTokenizer.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        ClipEncoding e;
        try {
            e = tokenizer.encode(prompt);
        } finally {
            logger.removeHandler(handler);
        }
        assertTrue(e.truncated());
        int[] untruncated = e.untruncatedInputIds();
        int[] ids = e.inputIds();
        assertEquals(79, untruncated.length);
        assertEquals(77, ids.length);
        assertEquals(49406, ids[0]);
        assertArrayEquals(java.util.Arrays.copyOfRange(untruncated, 0, 76), java.util.Arrays.copyOfRange(ids, 0, 76));
        assertEquals(49407, ids[76]);

        assertEquals(1, records.size(), "exactly one warning");
        assertEquals(Level.WARNING, records.get(0).getLevel());
        // The prompt ends "..., trending on artstation, masterpiece": ", masterpiece" is the
        // two tokens (",</w>", "masterpiece</w>") beyond bos + 75 + eos.
        assertEquals("The following part of your input was truncated because CLIP can only handle sequences up to"
                + " 77 tokens: , masterpiece", records.get(0).getMessage());
    }

    @Test
    void promptThatFitsIsNotTruncatedAndLogsNothing() {
        List<LogRecord> records = new ArrayList<>();
        Logger logger = Logger.getLogger(ClipTokenizer.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try {
            // 75 one-token words: bos + 75 + eos is exactly 77.
            ClipEncoding e = tokenizer.encode("a ".repeat(75));
            assertFalse(e.truncated());
            assertEquals(77, e.untruncatedInputIds().length);
            assertArrayEquals(e.untruncatedInputIds(), e.inputIds());
            ClipEncoding over = tokenizer.encode("a ".repeat(76));
            assertTrue(over.truncated());
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(1, records.size(), "only the 76-word prompt warns");
        assertTrue(records.get(0).getMessage().endsWith("77 tokens: a"), records.get(0).getMessage());
    }

    // ---- decode -----------------------------------------------------------------------------

    @Test
    void decodeInvertsEncodeUpToNormalisation() {
        ClipEncoding e = tokenizer.encode("A photo of an astronaut, riding a horse on Mars!");
        assertEquals("a photo of an astronaut, riding a horse on mars!", tokenizer.decode(e.untruncatedInputIds(), true));
        assertEquals("<|startoftext|>a photo of an astronaut, riding a horse on mars! <|endoftext|>",
                tokenizer.decode(e.untruncatedInputIds()));
        // CJK ideographs are words of their own, so they come back space-separated.
        assertEquals("café naïve 日 本", tokenizer.decode(tokenizer.encode("Café naïve 日本").untruncatedInputIds(), true));
        // clean_up_tokenization knows n't, 's, 'm, 've, 're but not the 't piece CLIP splits off.
        assertEquals("don 't it's", tokenizer.decode(tokenizer.encode("don't it's").untruncatedInputIds(), true));
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {49408}));
        assertTrue(e.getMessage().contains("49408"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {-1}));
    }

    // ---- behaviour of the reference beyond the golden prompts ----------------------------------

    @Test
    void specialTokensTypedInOtherCaseAreFoundAfterLowerCasing() {
        // Not cut out as typed (the split is case-sensitive), but lower-casing turns it into the
        // pattern's <|endoftext|> alternative, which BPE keeps whole.
        ClipEncoding e = tokenizer.encode("cat <|ENDOFTEXT|>dog");
        assertEquals(List.of("cat</w>", "<|endoftext|>", "dog</w>"), e.bpeTokens());
        assertArrayEquals(new int[] {49406, 2368, 49407, 1929, 49407}, e.untruncatedInputIds());
    }

    // Expected values in this section were checked against transformers' slow CLIPTokenizer
    // algorithm run with the Python regex module (the golden prompts do not reach these paths).

    @Test
    void pythonWhitespaceAndDroppedCharactersFollowTheReference() {
        // NBSP is a space separator; U+2028 is split on by str.split(); ZWJ and other format
        // characters are removed; U+0345 matches no alternative of the pattern and vanishes.
        assertEquals(List.of("a</w>", "b</w>", "c</w>", "de</w>", "f</w>", "g</w>"),
                tokenizer.tokenize("a\u00a0b\u2028c d\u200de f\u0345g"));
        // The contraction alternatives are case-insensitive in the reference: 'ſ (long s) is one
        // 's match, BPE'd as a whole word, instead of "'" and "ſ" as two words ("'</w>", "Å¿</w>").
        assertEquals(List.of("it</w>", "'", "Å", "¿</w>"), tokenizer.tokenize("it'\u017f"));
    }

    @Test
    void exclamationMarkIsAnAddedTokenOnlyForTokenizer2() {
        assertEquals(List.of("wow</w>", "!</w>"), tokenizer.tokenize("wow!"));
        assertEquals(List.of("wow</w>", "!"), tokenizer2.tokenize("wow!"));
        assertArrayEquals(new int[] {49406, 2781, 0, 49407}, tokenizer2.encode("wow!").untruncatedInputIds());
    }

    @Test
    void encodingIsThreadSafe() throws Exception {
        List<String> prompts = items().stream().map(i -> (String) i.get("prompt"))
                .filter(p -> !p.startsWith("an extremely detailed")) // keeps the log free of truncation warnings
                .toList();
        List<ClipEncoding> expected = prompts.stream().map(tokenizer::encode).toList();
        ClipTokenizer fresh = ClipTokenizer.fromFolder(modelFolder("tokenizer"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<ClipEncoding>>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    List<ClipEncoding> out = new ArrayList<>();
                    for (int round = 0; round < 5; round++) {
                        out.clear();
                        for (String p : prompts) {
                            out.add(fresh.encode(p));
                        }
                    }
                    return out;
                }));
            }
            for (Future<List<ClipEncoding>> f : futures) {
                assertEquals(expected, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- bad folders ------------------------------------------------------------------------

    @TempDir
    Path tmp;

    private Path copyOf(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (Stream<Path> files = Files.list(modelFolder(name))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static void replaceIn(Path file, String from, String to) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.contains(from), file + " should contain " + from);
        Files.writeString(file, text.replace(from, to), StandardCharsets.UTF_8);
    }

    private static TokenizerException failsToLoad(Path folder, String file, String... messageParts) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> ClipTokenizer.fromFolder(folder));
        assertEquals(folder.resolve(file), e.file(), e.getMessage());
        assertTrue(e.getMessage().contains(folder.resolve(file).toString()), e.getMessage());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message should contain \"" + part + "\": " + e.getMessage());
        }
        return e;
    }

    @Test
    void missingVocabFileIsNamed() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.delete(dir.resolve("vocab.json"));
        failsToLoad(dir, "vocab.json", "not found");
    }

    @Test
    void missingMergesFileIsNamed() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.delete(dir.resolve("merges.txt"));
        failsToLoad(dir, "merges.txt", "not found");
    }

    @Test
    void missingTokenizerConfigIsNamed() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.delete(dir.resolve("tokenizer_config.json"));
        failsToLoad(dir, "tokenizer_config.json", "not found");
    }

    @Test
    void malformedVocabJsonIsNamed() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": }");
        failsToLoad(dir, "vocab.json", "malformed JSON", "line 1");
    }

    @Test
    void malformedTokenizerConfigIsNamed() throws IOException {
        Path dir = copyOf("tokenizer_2");
        replaceIn(dir.resolve("tokenizer_config.json"), "\"model_max_length\": 77,", "\"model_max_length\": 77,,");
        failsToLoad(dir, "tokenizer_config.json", "malformed JSON");
    }

    @Test
    void malformedSpecialTokensMapIsNamed() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.writeString(dir.resolve("special_tokens_map.json"), "[1, 2");
        failsToLoad(dir, "special_tokens_map.json", "malformed JSON");
    }

    @Test
    void vocabThatIsNotATokenToIdObjectIsRejected() throws IOException {
        Path dir = copyOf("tokenizer");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": \"one\"}");
        failsToLoad(dir, "vocab.json", "\"b\"", "expected a non-negative integer id");
        Files.writeString(dir.resolve("vocab.json"), "[\"a\", \"b\"]");
        failsToLoad(dir, "vocab.json", "expected a JSON object");
    }

    @Test
    void padTokenOutsideTheVocabularyIsRejected() throws IOException {
        Path dir = copyOf("tokenizer_2");
        // tokenizer_2 names its pad token in added_tokens_decoder too; drop that entry so the pad
        // token must come from the vocabulary.
        Path config = dir.resolve("tokenizer_config.json");
        Map<String, Object> json = Json.parseObject(Files.readString(config));
        ((Map<?, ?>) json.get("added_tokens_decoder")).remove("0");
        json.put("pad_token", "<|pad|>");
        Files.writeString(config, toJson(json));
        failsToLoad(dir, "tokenizer_config.json", "\"<|pad|>\"", "pad_token", "vocab.json");
    }

    @Test
    void nullPadTokenIsRejected() throws IOException {
        Path dir = copyOf("tokenizer");
        replaceIn(dir.resolve("tokenizer_config.json"), "\"pad_token\": \"<|endoftext|>\"", "\"pad_token\": null");
        failsToLoad(dir, "tokenizer_config.json", "pad_token is null");
    }

    @Test
    void missingModelMaxLengthIsRejected() throws IOException {
        Path dir = copyOf("tokenizer");
        replaceIn(dir.resolve("tokenizer_config.json"), "\"model_max_length\": 77,", "");
        failsToLoad(dir, "tokenizer_config.json", "model_max_length is missing");
    }

    @Test
    void mergesWithoutVersionHeaderOrWithABadLineAreRejected() throws IOException {
        Path dir = copyOf("tokenizer");
        Path merges = dir.resolve("merges.txt");
        Files.writeString(merges, "i n\nt h\n");
        failsToLoad(dir, "merges.txt", "#version");
        Files.writeString(merges, "#version: 0.2\ni n\nt h e\n");
        failsToLoad(dir, "merges.txt", "line 3", "two symbols");
    }

    @Test
    void addedTokenIdOutsideTheVocabularyIsRejected() throws IOException {
        Path dir = copyOf("tokenizer");
        replaceIn(dir.resolve("tokenizer_config.json"), "\"49407\": {", "\"49408\": {");
        failsToLoad(dir, "tokenizer_config.json", "49408", "outside vocab.json");
    }

    @Test
    void legacyFolderWithoutAddedTokensDecoderTakesSpecialTokensFromTheMap() throws IOException {
        Path dir = copyOf("tokenizer_2");
        Path config = dir.resolve("tokenizer_config.json");
        Map<String, Object> json = Json.parseObject(Files.readString(config));
        json.remove("added_tokens_decoder");
        json.remove("pad_token");
        Files.writeString(config, toJson(json));
        ClipTokenizer legacy = ClipTokenizer.fromFolder(dir);
        // special_tokens_map.json still names "!" as pad token.
        assertEquals(0, legacy.padId());
        Map<String, Object> item = items().get(2);
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) item.get("tokenizer_2");
        assertArrayEquals(ints(expected.get("input_ids")), legacy.encode((String) item.get("prompt")).inputIds());
    }

    /** Minimal JSON writer for the test's edited configs (strings, booleans, numbers, nulls, objects). */
    private static String toJson(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    b.append('\\').append(c);
                } else if (c < 0x20) {
                    b.append(String.format("\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
            return b.append('"').toString();
        }
        if (v instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            m.forEach((k, val) -> parts.add(toJson(k) + ": " + toJson(val)));
            return "{" + String.join(", ", parts) + "}";
        }
        if (v instanceof List<?> l) {
            return "[" + String.join(", ", l.stream().map(ClipTokenizerTest::toJson).toList()) + "]";
        }
        return v.toString();
    }
}
