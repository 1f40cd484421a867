package dev.pagoda.tensor.safetensors;

import static dev.pagoda.tensor.safetensors.SafetensorsBytes.concat;
import static dev.pagoda.tensor.safetensors.SafetensorsBytes.file;
import static dev.pagoda.tensor.safetensors.SafetensorsBytes.utf8;
import static dev.pagoda.tensor.safetensors.SafetensorsBytes.withLength;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A corpus of broken and hostile files, built byte by byte. Each must be refused with a
 * {@link SafetensorsException} naming the file and the specific reason: never another exception, an
 * out-of-memory error or a hang.
 */
class MalformedSafetensorsTest {

    @TempDir
    Path dir;

    /** {@code {"name": {"dtype": ..., "shape": ..., "data_offsets": ...}}} with raw JSON fragments. */
    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private static String one(String dtype, String shape, String offsets) {
        return "{" + entry("w", dtype, shape, offsets) + "}";
    }

    private static Arguments bad(String name, byte[] bytes, String reason) {
        return Arguments.of(name, bytes, reason);
    }

    static Stream<Arguments> corpus() {
        String deep = "{\"__metadata__\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}";
        return Stream.of(
                // ------------------------------------------------ the 8-byte length
                bad("empty file", new byte[0], "file is 0 bytes, too short for the 8-byte header length"),
                bad("7 bytes", new byte[7], "file is 7 bytes, too short for the 8-byte header length"),
                bad("header length zero", withLength(0, "", 4), "header length 0 is too small to hold a JSON object"),
                bad("header length one", withLength(1, "{", 0), "header length 1 is too small to hold a JSON object"),
                bad("header length larger than file", withLength(100, "{}", 10),
                        "header length 100 runs past the end of the file (20 bytes"),
                bad("header length just past the file", withLength(3, "{}", 0),
                        "header length 3 runs past the end of the file (10 bytes"),
                bad("header length 2^63", withLength(Long.MIN_VALUE, "{}", 0),
                        "header length 9223372036854775808 exceeds the limit of 100000000 bytes"),
                bad("header length -1 (2^64-1)", withLength(-1, "{}", 0),
                        "header length 18446744073709551615 exceeds the limit of 100000000 bytes"),
                bad("header length 2^62", withLength(1L << 62, "{}", 0),
                        "header length 4611686018427387904 exceeds the limit"),
                bad("header length one above the cap", withLength(100_000_001, "{}", 0),
                        "header length 100000001 exceeds the limit of 100000000 bytes"),
                // ------------------------------------------------ text and JSON
                bad("invalid UTF-8 byte", file(concat(utf8("{\"a"), new byte[] {(byte) 0xFF}, utf8("\":1}")), 0),
                        "header is not valid UTF-8 (bad byte 0xFF at header offset 3)"),
                bad("overlong UTF-8 encoding", file(concat(utf8("{\""), new byte[] {(byte) 0xC0, (byte) 0xAF},
                        utf8("\":1}")), 0), "header is not valid UTF-8 (bad byte 0xC0 at header offset 2)"),
                bad("UTF-8 encoded surrogate", file(concat(utf8("{\""), new byte[] {(byte) 0xED, (byte) 0xA0,
                        (byte) 0x80}, utf8("\":1}")), 0), "header is not valid UTF-8 (bad byte 0xED at header offset 2)"),
                bad("truncated UTF-8 sequence at the end", file(concat(utf8("{}  "), new byte[] {(byte) 0xE2,
                        (byte) 0x82}), 0), "header is not valid UTF-8"),
                bad("leading whitespace before the object", file("  {}", 0), "header does not start with '{' (found byte 0x20)"),
                bad("top-level array", file("[{}]", 0), "header does not start with '{' (found byte 0x5B)"),
                bad("top-level string", file("\"{}\"", 0), "header does not start with '{' (found byte 0x22)"),
                bad("unterminated object", file("{\"w\":{\"dtype\":\"F32\"", 0),
                        "header is not valid JSON: expected '}' but the text ended at line 1, column 20"),
                bad("trailing comma", file("{\"__metadata__\":{},}", 0),
                        "header is not valid JSON: expected a string key at line 1, column 20"),
                bad("single quotes", file("{'w':1}", 0), "header is not valid JSON: expected a string key"),
                bad("garbage after the object", file("{}x", 0),
                        "header is not valid JSON: unexpected text after the JSON value at line 1, column 3"),
                bad("NUL padding instead of spaces", file("{}\0\0\0\0\0\0", 0),
                        "header is not valid JSON: unexpected text after the JSON value at line 1, column 3"),
                bad("NaN in shape", file(one("\"F32\"", "[NaN]", "[0,4]"), 4),
                        "header is not valid JSON: unexpected character 'N'"),
                bad("control character in a name", file("{\"a\u0001\":1}", 0),
                        "header is not valid JSON: control character U+0001 in string"),
                bad("lone surrogate escape in a name", file("{\"\\ud800\":1}", 0),
                        "header is not valid JSON: high surrogate \\uD800 not followed by a low surrogate"),
                bad("duplicate tensor keys", file("{" + entry("w", "\"F32\"", "[1]", "[0,4]") + ","
                        + entry("w", "\"F32\"", "[1]", "[4,8]") + "}", 8),
                        "header is not valid JSON: duplicate key \"w\""),
                bad("duplicate field in an entry", file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],"
                        + "\"data_offsets\":[0,4]}}", 4), "header is not valid JSON: duplicate key \"dtype\""),
                bad("deeply nested JSON", file(deep, 0), "header is not valid JSON: JSON nested deeper than 256 levels"),
                bad("2000-digit number", file(one("\"F32\"", "[" + "1".repeat(2000) + "]", "[0,4]"), 4),
                        "header is not valid JSON: number literal longer than 1000 characters"),
                // ------------------------------------------------ entries
                bad("entry not an object", file("{\"w\":[1,2]}", 0), "tensor \"w\": entry must be an object, found array"),
                bad("entry is null", file("{\"w\":null}", 0), "tensor \"w\": entry must be an object, found null"),
                bad("missing dtype", file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "tensor \"w\": dtype is missing"),
                bad("missing shape", file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
                        "tensor \"w\": shape is missing"),
                bad("missing data_offsets", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                        "tensor \"w\": data_offsets is missing"),
                bad("unknown field", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                        + "\"offsets\":[0,4]}}", 4), "tensor \"w\": unknown field \"offsets\""),
                bad("dtype not a string", file(one("4", "[1]", "[0,4]"), 4),
                        "tensor \"w\": dtype must be a string, found number"),
                bad("unknown dtype", file(one("\"F31\"", "[1]", "[0,4]"), 4),
                        "tensor \"w\": unknown dtype \"F31\" (not a safetensors dtype)"),
                bad("lower-case dtype", file(one("\"f32\"", "[1]", "[0,4]"), 4), "tensor \"w\": unknown dtype \"f32\""),
                bad("unsupported dtype F64", file(one("\"F64\"", "[1]", "[0,8]"), 8),
                        "tensor \"w\": unsupported dtype \"F64\" (Pagoda reads F32, F16, BF16, I32, I64, BOOL)"),
                bad("unsupported dtype I8", file(one("\"I8\"", "[4]", "[0,4]"), 4), "unsupported dtype \"I8\""),
                bad("unsupported dtype U8", file(one("\"U8\"", "[4]", "[0,4]"), 4), "unsupported dtype \"U8\""),
                bad("unsupported dtype F8_E4M3", file(one("\"F8_E4M3\"", "[4]", "[0,4]"), 4),
                        "unsupported dtype \"F8_E4M3\""),
                // ------------------------------------------------ shapes
                bad("shape not an array", file(one("\"F32\"", "4", "[0,16]"), 16),
                        "tensor \"w\": shape must be an array, found number"),
                bad("shape negative", file(one("\"F32\"", "[-1]", "[0,4]"), 4), "tensor \"w\": shape[0] = -1 is negative"),
                bad("shape fractional", file(one("\"F32\"", "[2,1.5]", "[0,12]"), 12),
                        "tensor \"w\": shape[1] = 1.5 is not an integer (found number)"),
                bad("shape integral float", file(one("\"F32\"", "[2.0]", "[0,8]"), 8),
                        "tensor \"w\": shape[0] = 2.0 is not an integer (found number)"),
                bad("shape string entry", file(one("\"F32\"", "[\"2\"]", "[0,8]"), 8),
                        "tensor \"w\": shape[0] = \"2\" is not an integer (found string)"),
                bad("shape null entry", file(one("\"F32\"", "[null]", "[0,8]"), 8),
                        "tensor \"w\": shape[0] = null is not an integer (found null)"),
                bad("shape dimension 2^31", file(one("\"F32\"", "[2147483648]", "[0,4]"), 4),
                        "tensor \"w\": shape[0] = 2147483648 is too large (dimensions must be below 2^31)"),
                bad("shape dimension beyond 64 bits", file(one("\"F32\"", "[1,99999999999999999999999]", "[0,4]"), 4),
                        "tensor \"w\": shape[1] = 99999999999999999999999 is too large"),
                bad("shape hugely negative", file(one("\"F32\"", "[-99999999999999999999999]", "[0,4]"), 4),
                        "tensor \"w\": shape[0] = -99999999999999999999999 is negative"),
                bad("element count overflows", file(one("\"F32\"", "[2147483647,2147483647,2147483647]", "[0,0]"), 0),
                        "tensor \"w\": element count of shape [2147483647, 2147483647, 2147483647] overflows 64 bits"),
                bad("byte size overflows", file(one("\"F32\"", "[2147483647,2147483647,2]", "[0,0]"), 0),
                        "tensor \"w\": byte size of F32 [2147483647, 2147483647, 2] overflows 64 bits"),
                bad("span smaller than shape needs", file(one("\"F32\"", "[3]", "[0,8]"), 8),
                        "tensor \"w\": F32 [3] needs 12 bytes but data_offsets [0, 8] span 8"),
                bad("span larger than shape needs", file(one("\"F16\"", "[2,2]", "[0,16]"), 16),
                        "tensor \"w\": F16 [2, 2] needs 8 bytes but data_offsets [0, 16] span 16"),
                bad("scalar with empty span", file(one("\"I64\"", "[]", "[0,0]"), 0),
                        "tensor \"w\": I64 [] needs 8 bytes but data_offsets [0, 0] span 0"),
                // ------------------------------------------------ offsets
                bad("data_offsets not an array", file(one("\"F32\"", "[1]", "{\"begin\":0}"), 4),
                        "tensor \"w\": data_offsets must be an array [begin, end], found object"),
                bad("data_offsets with 3 entries", file(one("\"F32\"", "[1]", "[0,4,8]"), 8),
                        "tensor \"w\": data_offsets must have 2 entries [begin, end], found 3"),
                bad("data_offsets with 1 entry", file(one("\"F32\"", "[1]", "[4]"), 4),
                        "tensor \"w\": data_offsets must have 2 entries [begin, end], found 1"),
                bad("data_offsets fractional", file(one("\"F32\"", "[1]", "[0,4.0]"), 4),
                        "tensor \"w\": data_offsets[1] = 4.0 is not an integer (found number)"),
                bad("data_offsets negative", file(one("\"F32\"", "[1]", "[-4,0]"), 4),
                        "tensor \"w\": data_offsets[0] = -4 is negative"),
                bad("data_offsets reversed", file(one("\"F32\"", "[1]", "[4,0]"), 4),
                        "tensor \"w\": data_offsets [4, 0] are reversed (end before begin)"),
                bad("data_offsets beyond the data", file(one("\"F32\"", "[4]", "[0,16]"), 8),
                        "tensor \"w\": data_offsets [0, 16] end beyond the data region of 8 bytes"),
                bad("data_offsets near Long.MAX_VALUE", file(one("\"F32\"", "[1]",
                        "[9223372036854775803,9223372036854775807]"), 4),
                        "data_offsets [9223372036854775803, 9223372036854775807] end beyond the data region of 4 bytes"),
                bad("data_offsets beyond 64 bits", file(one("\"F32\"", "[1]", "[0,18446744073709551616]"), 4),
                        "tensor \"w\": data_offsets[1] = 18446744073709551616 does not fit in 64 bits"),
                bad("overlapping tensors", file("{" + entry("a", "\"F32\"", "[2]", "[0,8]") + ","
                        + entry("b", "\"F32\"", "[2]", "[4,12]") + "}", 12),
                        "tensor \"b\" [4, 12) overlaps tensor \"a\" [0, 8)"),
                bad("two tensors aliasing one range", file("{" + entry("a", "\"F32\"", "[2]", "[0,8]") + ","
                        + entry("b", "\"I32\"", "[2]", "[0,8]") + "}", 8), "overlaps tensor"),
                bad("empty tensor inside another", file("{" + entry("a", "\"F32\"", "[2]", "[0,8]") + ","
                        + entry("z", "\"F32\"", "[0]", "[4,4]") + "}", 8),
                        "tensor \"z\" [4, 4) overlaps tensor \"a\" [0, 8)"),
                bad("gap between tensors", file("{" + entry("a", "\"F32\"", "[1]", "[0,4]") + ","
                        + entry("b", "\"F32\"", "[1]", "[8,12]") + "}", 12),
                        "gap of 4 unused bytes before tensor \"b\" (data_offsets begin 8, previous data ends at 4)"),
                bad("gap at the start", file(one("\"F32\"", "[1]", "[4,8]"), 8),
                        "gap of 4 unused bytes before tensor \"w\""),
                bad("trailing bytes after the last tensor", file(one("\"F32\"", "[1]", "[0,4]"), 8),
                        "4 trailing bytes after the last tensor (data region is 8 bytes, tensors cover 4)"),
                bad("no tensors but data", file("{}", 8),
                        "8 trailing bytes after the last tensor (data region is 8 bytes, tensors cover 0)"),
                // ------------------------------------------------ metadata
                bad("metadata not an object", file("{\"__metadata__\":\"pt\"}", 0),
                        "__metadata__ must be an object of strings, found string"),
                bad("metadata value a number", file("{\"__metadata__\":{\"format\":\"pt\",\"epoch\":1}}", 0),
                        "__metadata__ value of \"epoch\" must be a string, found number"),
                bad("metadata value an object", file("{\"__metadata__\":{\"cfg\":{\"a\":\"b\"}}}", 0),
                        "__metadata__ value of \"cfg\" must be a string, found object"),
                bad("metadata value null", file("{\"__metadata__\":{\"a\":null}}", 0),
                        "__metadata__ value of \"a\" must be a string, found null"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void malformedFileIsRefusedWithFileNameAndReason(String name, byte[] bytes, String reason) throws Exception {
        Path file = SafetensorsBytes.write(dir, name.replaceAll("[^A-Za-z0-9]+", "_") + ".safetensors", bytes);
        SafetensorsException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close()), name);
        assertTrue(e.getMessage().startsWith(file + ": "), name + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(reason), name + ": expected \"" + reason + "\" in: " + e.getMessage());
    }

    @Test
    void corpusHasAtLeastThirtyNamedCases() {
        List<Arguments> all = corpus().toList();
        assertTrue(all.size() >= 30, "corpus has " + all.size() + " cases");
        assertEquals(all.size(), all.stream().map(a -> a.get()[0]).distinct().count(), "case names are unique");
    }

    @Test
    void missingFileIsRefusedByName() {
        Path file = dir.resolve("absent.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file));
        assertEquals(file + ": no such file", e.getMessage());
    }

    @Test
    void directoryIsRefusedByName() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("folder.safetensors"));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(sub));
        assertEquals(sub + ": not a regular file", e.getMessage());
    }

    // ---------------------------------------------------------------- the edges that are valid

    @Test
    void minimalHeaderWithoutTensorsIsValid() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsBytes.write(dir, "min.safetensors", file("{}", 0)))) {
            assertTrue(f.names().isEmpty());
            assertTrue(f.metadata().isEmpty());
            assertEquals(10, f.dataStart());
        }
    }

    @Test
    void headerMayBePaddedWithAnyJsonWhitespace() throws Exception {
        byte[] bytes = file("{}\r \t\n", 0);
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsBytes.write(dir, "ws.safetensors", bytes))) {
            assertTrue(f.names().isEmpty());
        }
    }

    @Test
    void nullMetadataReadsAsNone() throws Exception {
        byte[] bytes = file("{\"__metadata__\":null}", 0);
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsBytes.write(dir, "nullmeta.safetensors", bytes))) {
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void headerOrderNeedNotBeOffsetOrderAndEmptyTensorsMayShareOffsets() throws Exception {
        String header = "{" + entry("late", "\"F32\"", "[1]", "[4,8]") + "," + entry("e1", "\"F16\"", "[0,3]", "[4,4]")
                + "," + entry("early", "\"I32\"", "[1]", "[0,4]") + "," + entry("e0", "\"BOOL\"", "[0]", "[0,0]")
                + "," + entry("e2", "\"I64\"", "[2,0]", "[8,8]") + "}";
        try (SafetensorsFile f = SafetensorsFile.open(SafetensorsBytes.write(dir, "order.safetensors", file(header, 8)))) {
            assertEquals(List.of("late", "e1", "early", "e0", "e2"), List.copyOf(f.names()));
            assertEquals(new TensorInfo("e1", DType.F16, new int[] {0, 3}, 4, 4), f.info("e1"));
            assertEquals(0, f.tensor("e2").numel());
            assertEquals(DType.I32, f.tensor("early").dtype());
        }
    }

    @Test
    void unknownTensorNameIsReportedWithTheFile() throws Exception {
        Path p = SafetensorsBytes.write(dir, "one.safetensors", file(one("\"F32\"", "[1]", "[0,4]"), 4));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.tensor("nope"));
            assertEquals(p + ": no tensor named \"nope\"", e.getMessage());
            assertThrows(SafetensorsException.class, () -> f.info("nope"));
        }
    }
}
