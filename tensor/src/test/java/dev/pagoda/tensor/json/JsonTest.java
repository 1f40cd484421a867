package dev.pagoda.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonTest {

    // ---------------------------------------------------------------- valid documents

    @Test
    void parsesNestedDocumentKeepingKeyOrder() {
        Map<String, Object> m = Json.parseObject("""
                {"z": 1, "a": [true, false, null, "s", 2.5, {"k": []}], "m": {}}""");
        assertEquals(List.of("z", "a", "m"), List.copyOf(m.keySet()));
        assertEquals(1L, m.get("z"));
        List<?> a = (List<?>) m.get("a");
        assertEquals(Boolean.TRUE, a.get(0));
        assertEquals(Boolean.FALSE, a.get(1));
        assertNull(a.get(2));
        assertEquals("s", a.get(3));
        assertEquals(2.5, a.get(4));
        assertEquals(Map.of("k", List.of()), a.get(5));
        assertEquals(Map.of(), m.get("m"));
    }

    @Test
    void acceptsAllFourWhitespaceCharactersAroundTokens() {
        Object v = Json.parse(" \t\r\n[ 1 ,\n\t2 ] \r\n");
        assertEquals(List.of(1L, 2L), v);
    }

    @Test
    void parsesScalarsAtTopLevel() {
        assertEquals("x", Json.parse("\"x\""));
        assertEquals(7L, Json.parse("7"));
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertNull(Json.parse("null"));
    }

    @Test
    void parseObjectRefusesOtherTopLevelValues() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parseObject("[1]"));
        assertTrue(e.getMessage().contains("expected a JSON object at the top level, found array"), e.getMessage());
    }

    // ---------------------------------------------------------------- numbers

    @Test
    void integersAreLongsWhenTheyFit() {
        assertEquals(0L, Json.parse("0"));
        assertEquals(-12L, Json.parse("-12"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(123456789012345678L, Json.parse("123456789012345678"));
    }

    @Test
    void integersBeyondLongAreBigIntegers() {
        assertEquals(new BigInteger("9223372036854775808"), Json.parse("9223372036854775808"));
        assertEquals(new BigInteger("-9223372036854775809"), Json.parse("-9223372036854775809"));
        assertEquals(new BigInteger("123456789012345678901234567890"),
                Json.parse("123456789012345678901234567890"));
    }

    @Test
    void negativeZeroIntegerIsZeroButNegativeZeroFractionKeepsItsSign() {
        assertEquals(0L, Json.parse("-0"));
        Object d = Json.parse("-0.0");
        assertInstanceOf(Double.class, d);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) d));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) Json.parse("-0e0")));
    }

    @Test
    void fractionsAndExponentsAreDoubles() {
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(100.0, Json.parse("1e2"));
        assertEquals(100.0, Json.parse("1E+2"));
        assertEquals(0.0125, Json.parse("1.25e-2"));
        assertEquals(-3.0e-300, Json.parse("-3.0e-300"));
        assertEquals(Double.POSITIVE_INFINITY, Json.parse("1e400"));
        assertEquals(0.0, Json.parse("1e-400"));
        assertEquals(0.1, Json.parse("0.1"));
    }

    @Test
    void pythonNonFiniteTokensAreRefusedByDefaultAndReadOnRequest() {
        assertThrows(JsonException.class, () -> Json.parse("[NaN]"));
        assertThrows(JsonException.class, () -> Json.parse("Infinity"));
        assertThrows(JsonException.class, () -> Json.parse("-Infinity"));
        Map<String, Object> m = Json.parseObjectWithNonFinite(
                "{\"lambda_min_clipped\": -Infinity, \"a\": Infinity, \"b\": NaN, \"c\": -1.5}");
        assertEquals(Double.NEGATIVE_INFINITY, m.get("lambda_min_clipped"));
        assertEquals(Double.POSITIVE_INFINITY, m.get("a"));
        assertTrue(Double.isNaN((Double) m.get("b")));
        assertEquals(-1.5, m.get("c"));
        JsonException e = assertThrows(JsonException.class, () -> Json.parseWithNonFinite("[-Inf]"));
        assertEquals("digit expected after '-' at line 1, column 3", e.getMessage());
        assertThrows(JsonException.class, () -> Json.parseWithNonFinite("nan"));
        assertThrows(JsonException.class, () -> Json.parseObjectWithNonFinite("[]"));
    }

    @Test
    void numberLiteralsAtTheLengthLimitParseAndLongerOnesAreRefused() {
        String ok = "1" + "0".repeat(Json.MAX_NUMBER_LENGTH - 1);
        assertEquals(new BigInteger(ok), Json.parse(ok));
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[" + ok + "0]"));
        assertTrue(e.getMessage().contains("number literal longer than 1000 characters at line 1, column 2"),
                e.getMessage());
    }

    @Test
    void hugeNumberLiteralFailsFastInsteadOfParsingQuadratically() {
        String digits = "9".repeat(5_000_000);
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(JsonException.class, () -> Json.parse(digits)));
    }

    // ---------------------------------------------------------------- strings

    @Test
    void simpleEscapesDecode() {
        assertEquals("\" \\ / \b \f \n \r \t", Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""));
    }

    @Test
    void unicodeEscapesDecodeIncludingSurrogatePairs() {
        assertEquals("é", Json.parse("\"\\u00e9\""));
        assertEquals("é", Json.parse("\"\\u00E9\""));
        assertEquals("\u0000", Json.parse("\"\\u0000\""));
        assertEquals("😀", Json.parse("\"\\ud83d\\ude00\""));
        assertEquals("😀x", Json.parse("\"\\uD83D\\uDE00x\""));
        assertEquals("日本😀", Json.parse("\"日本😀\""));
    }

    @Test
    void quoteRoundTripsThroughTheParser() {
        String s = "a\"b\\c\n\t\r\b\f\u0001\u001f 日本😀 /";
        assertEquals(s, Json.parse(Json.quote(s)));
        assertEquals("\"\\u0001\"", Json.quote("\u0001"));
        assertEquals("\"é/\"", Json.quote("é/"));
    }

    @Test
    void duplicateKeysAreRefusedAtTheSecondKey() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"a\": 1,\n \"a\": 2}"));
        assertEquals("duplicate key \"a\" at line 2, column 2", e.getMessage());
        // Nested objects have their own key space.
        assertEquals(Map.of("a", Map.of("a", 1L)), Json.parse("{\"a\": {\"a\": 1}}"));
        // Keys equal after unescaping are duplicates too.
        assertThrows(JsonException.class, () -> Json.parse("{\"é\": 1, \"\\u00e9\": 2}"));
    }

    // ---------------------------------------------------------------- nesting

    @Test
    void nestingUpToTheLimitIsAccepted() {
        String doc = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Object v = Json.parse(doc);
        for (int i = 1; i < Json.MAX_DEPTH; i++) {
            v = ((List<?>) v).getFirst();
        }
        assertEquals(List.of(), v);
    }

    @Test
    void nestingBeyondTheLimitIsRefusedWithoutStackOverflow() {
        String over = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(over));
        assertEquals("JSON nested deeper than 256 levels at line 1, column 257", e.getMessage());
        String hostile = "{\"a\":".repeat(1_000_000);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(JsonException.class,
                () -> Json.parse(hostile)));
    }

    // ---------------------------------------------------------------- every error path, with position

    static Stream<Arguments> malformed() {
        return Stream.of(
                bad("empty text", "", "unexpected end of JSON at line 1, column 1"),
                bad("only whitespace", "  ", "unexpected end of JSON at line 1, column 3"),
                bad("bare word", "hello", "unexpected character 'h' at line 1, column 1"),
                bad("byte order mark", "\uFEFF{}", "unexpected character U+FEFF at line 1, column 1"),
                bad("text after value", "{} x", "unexpected text after the JSON value at line 1, column 4"),
                bad("two values", "1 2", "unexpected text after the JSON value at line 1, column 3"),
                bad("bad literal true", "tru", "invalid literal (expected true) at line 1, column 1"),
                bad("bad literal null", "[nul]", "invalid literal (expected null) at line 1, column 2"),
                bad("capitalised literal", "True", "unexpected character 'T' at line 1, column 1"),
                bad("NaN", "NaN", "unexpected character 'N' at line 1, column 1"),
                bad("minus Infinity", "-Infinity", "digit expected after '-' at line 1, column 2"),
                bad("lone minus", "-", "truncated number at line 1, column 2"),
                bad("leading plus", "+1", "unexpected character '+' at line 1, column 1"),
                bad("leading zero", "01", "leading zero in number at line 1, column 2"),
                bad("negative leading zero", "-00", "leading zero in number at line 1, column 3"),
                bad("dot without digits", "1.", "digit expected after '.' at line 1, column 3"),
                bad("leading dot", ".5", "unexpected character '.' at line 1, column 1"),
                bad("exponent without digits", "1e", "digit expected in exponent at line 1, column 3"),
                bad("exponent sign only", "1e+", "digit expected in exponent at line 1, column 4"),
                bad("hex number", "0x10", "unexpected text after the JSON value at line 1, column 2"),
                bad("non-ASCII digit in number", "1\u0663", "unexpected text after the JSON value at line 1, column 2"),
                bad("non-ASCII digit as number", "\u0663", "unexpected character U+0663 at line 1, column 1"),
                bad("unterminated array", "[1, 2", "expected ']' but the text ended at line 1, column 6"),
                bad("missing comma in array", "[1 2]", "expected ']', found '2' at line 1, column 4"),
                bad("trailing comma in array", "[1,]", "unexpected character ']' at line 1, column 4"),
                bad("leading comma in array", "[,1]", "unexpected character ',' at line 1, column 2"),
                bad("unterminated object", "{\"a\": 1", "expected '}' but the text ended at line 1, column 8"),
                bad("trailing comma in object", "{\"a\": 1,}", "expected a string key at line 1, column 9"),
                bad("unquoted key", "{a: 1}", "expected a string key at line 1, column 2"),
                bad("single-quoted key", "{'a': 1}", "expected a string key at line 1, column 2"),
                bad("number key", "{1: 1}", "expected a string key at line 1, column 2"),
                bad("missing colon", "{\"a\" 1}", "expected ':', found '1' at line 1, column 6"),
                bad("missing value", "{\"a\":}", "unexpected character '}' at line 1, column 6"),
                bad("mismatched bracket", "[1}", "expected ']', found '}' at line 1, column 3"),
                bad("comment", "{} // no", "unexpected text after the JSON value at line 1, column 4"),
                bad("unterminated string", "\"abc", "unterminated string at line 1, column 5"),
                bad("raw newline in string", "\"a\nb\"",
                        "control character U+000A in string (must be escaped) at line 1, column 3"),
                bad("raw tab in string", "\"a\tb\"",
                        "control character U+0009 in string (must be escaped) at line 1, column 3"),
                bad("invalid escape", "\"\\x\"", "invalid escape '\\' followed by 'x' at line 1, column 2"),
                bad("escape at end", "\"\\", "unterminated escape at line 1, column 3"),
                bad("truncated unicode escape", "\"\\u12\"", "truncated \\u escape at line 1, column 4"),
                bad("bad hex digit", "\"\\u12g4\"", "bad hex digit 'g' in \\u escape at line 1, column 6"),
                bad("non-ASCII hex digit", "\"\\u00\u0663\u0663\"",
                        "bad hex digit U+0663 in \\u escape at line 1, column 6"),
                bad("lone high surrogate", "\"\\ud800\"",
                        "high surrogate \\uD800 not followed by a low surrogate at line 1, column 2"),
                bad("high surrogate then non-low", "\"\\ud800\\u0041\"",
                        "high surrogate \\uD800 followed by \\u0041, not by a low surrogate at line 1, column 2"),
                bad("lone low surrogate", "\"\\udc00\"", "unpaired low surrogate \\uDC00 at line 1, column 2"),
                bad("raw lone surrogate", "\"\uD800\"", "unpaired surrogate U+D800 in string at line 1, column 2"));
    }

    private static Arguments bad(String name, String json, String message) {
        return Arguments.of(name, json, message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedInputReportsReasonAndPosition(String name, String json, String expected) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(json), name);
        assertEquals(expected, e.getMessage(), name);
    }

    @Test
    void positionsCountLinesAndColumns() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\n  \"a\": [1,\n    2,\n    x]\n}"));
        assertEquals("unexpected character 'x' at line 4, column 5", e.getMessage());
    }

    @Test
    void typeNamesCoverEveryValueKind() {
        assertEquals(List.of("null", "object", "array", "string", "boolean", "number", "number", "number"),
                Arrays.asList(null, Map.of(), List.of(), "", true, 1L, 1.0, BigInteger.TEN).stream()
                        .map(Json::typeName).toList());
    }
}
