package dev.pagoda.tensor.json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader (RFC 8259) for safetensors headers, model configs and fixtures. Values map to
 * plain Java: object → {@code LinkedHashMap<String,Object>} (key order kept), array →
 * {@code List<Object>}, string → {@code String}, integer → {@code Long} (or {@code BigInteger} when
 * it does not fit; {@code -0} is the integer 0), other numbers → {@code Double}, true/false →
 * {@code Boolean}, null → {@code null}.
 *
 * <p>Strict means: no comments, trailing commas, single quotes, leading zeros, {@code NaN}, byte
 * order mark or unpaired surrogates; duplicate object keys are an error (safetensors forbids them,
 * and a silently kept first or last value is how two readers come to disagree about one file).
 * Python's non-finite tokens are available separately ({@link #parseWithNonFinite}) for configs.
 * Limits keep hostile input cheap: nesting is capped so it cannot overflow the stack, and number
 * literals are capped in length so {@code BigInteger} parsing cannot go quadratic.
 */
public final class Json {

    /** Deepest nesting of arrays and objects accepted. */
    public static final int MAX_DEPTH = 256;

    /** Longest number literal accepted, in characters. */
    public static final int MAX_NUMBER_LENGTH = 1000;

    private final String s;
    private final boolean nonFinite;
    private int pos;

    private Json(String s, boolean nonFinite) {
        this.s = s;
        this.nonFinite = nonFinite;
    }

    /** Parses one JSON value filling the whole text (surrounding whitespace allowed). */
    public static Object parse(String text) {
        return parse(text, false);
    }

    /** Parses text that must be a JSON object. */
    public static Map<String, Object> parseObject(String text) {
        return object(parse(text, false));
    }

    /**
     * Like {@link #parse}, but also accepts the {@code NaN}, {@code Infinity} and {@code -Infinity}
     * tokens that Python's json module writes by default, as {@code Double}s. Configuration files
     * written by diffusers carry them (DPM-Solver's {@code "lambda_min_clipped": -Infinity}); file
     * headers never should, so only configs are read this way.
     */
    public static Object parseWithNonFinite(String text) {
        return parse(text, true);
    }

    /** {@link #parseWithNonFinite} for text that must be a JSON object. */
    public static Map<String, Object> parseObjectWithNonFinite(String text) {
        return object(parse(text, true));
    }

    private static Object parse(String text, boolean nonFinite) {
        Json p = new Json(text, nonFinite);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v) {
        if (!(v instanceof Map)) {
            throw new JsonException("expected a JSON object at the top level, found " + typeName(v));
        }
        return (Map<String, Object>) v;
    }

    /** The JSON type of a parsed value, for error messages. */
    public static String typeName(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map) {
            return "object";
        }
        if (v instanceof List) {
            return "array";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        return "number";
    }

    /**
     * {@code s} as a JSON string literal, written the way serde_json does (the safetensors reference
     * writer): quote, backslash and control characters escaped, everything else verbatim.
     */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private JsonException error(String msg) {
        return errorAt(pos, msg);
    }

    private JsonException errorAt(int at, String msg) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(at, s.length()); i++) {
            if (s.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new JsonException(msg + " at line " + line + ", column " + col);
    }

    private void ws() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                break;
            }
        }
    }

    private Object value(int depth) {
        if (pos >= s.length()) {
            throw error("unexpected end of JSON");
        }
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            case 'N' -> nonFinite ? literal("NaN", Double.NaN) : unexpected(c);
            case 'I' -> nonFinite ? literal("Infinity", Double.POSITIVE_INFINITY) : unexpected(c);
            default -> {
                if (nonFinite && s.startsWith("-Infinity", pos)) {
                    yield literal("-Infinity", Double.NEGATIVE_INFINITY);
                }
                if (c == '-' || isDigit(c)) {
                    yield number();
                }
                yield unexpected(c);
            }
        };
    }

    private Object unexpected(char c) {
        throw error("unexpected character " + describe(c));
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7F ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, pos)) {
            throw error("invalid literal (expected " + word + ")");
        }
        pos += word.length();
        return v;
    }

    private void enter(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private Map<String, Object> object(int depth) {
        enter(depth);
        pos++;
        Map<String, Object> m = new LinkedHashMap<>();
        ws();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return m;
        }
        while (true) {
            ws();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error("expected a string key");
            }
            int keyAt = pos;
            String key = string();
            if (m.containsKey(key)) {
                throw errorAt(keyAt, "duplicate key " + quote(key));
            }
            ws();
            expect(':');
            ws();
            m.put(key, value(depth));
            ws();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect('}');
            return m;
        }
    }

    private List<Object> array(int depth) {
        enter(depth);
        pos++;
        List<Object> list = new ArrayList<>();
        ws();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return list;
        }
        while (true) {
            ws();
            list.add(value(depth));
            ws();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect(']');
            return list;
        }
    }

    private void expect(char c) {
        if (pos >= s.length()) {
            throw error("expected '" + c + "' but the text ended");
        }
        if (s.charAt(pos) != c) {
            throw error("expected '" + c + "', found " + describe(s.charAt(pos)));
        }
        pos++;
    }

    private String string() {
        pos++;
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return b.toString();
            }
            if (c < 0x20) {
                throw error("control character " + describe(c) + " in string (must be escaped)");
            }
            if (c == '\\') {
                escape(b);
            } else if (Character.isSurrogate(c)) {
                // Only reachable for text that did not come from strict UTF-8 decoding.
                if (Character.isHighSurrogate(c) && pos + 1 < s.length()
                        && Character.isLowSurrogate(s.charAt(pos + 1))) {
                    b.append(c).append(s.charAt(pos + 1));
                    pos += 2;
                } else {
                    throw error("unpaired surrogate " + describe(c) + " in string");
                }
            } else {
                b.append(c);
                pos++;
            }
        }
    }

    /** One escape sequence starting at the backslash under {@code pos}. */
    private void escape(StringBuilder b) {
        int at = pos;
        pos++;
        if (pos >= s.length()) {
            throw error("unterminated escape");
        }
        char e = s.charAt(pos++);
        switch (e) {
            case '"' -> b.append('"');
            case '\\' -> b.append('\\');
            case '/' -> b.append('/');
            case 'b' -> b.append('\b');
            case 'f' -> b.append('\f');
            case 'n' -> b.append('\n');
            case 'r' -> b.append('\r');
            case 't' -> b.append('\t');
            case 'u' -> {
                char u = hex4();
                if (Character.isLowSurrogate(u)) {
                    throw errorAt(at, "unpaired low surrogate \\u" + hexString(u));
                }
                if (Character.isHighSurrogate(u)) {
                    // UTF-16 pairs arrive as two escapes; a high half alone is not a character.
                    if (!s.startsWith("\\u", pos)) {
                        throw errorAt(at, "high surrogate \\u" + hexString(u) + " not followed by a low surrogate");
                    }
                    pos += 2;
                    char low = hex4();
                    if (!Character.isLowSurrogate(low)) {
                        throw errorAt(at, "high surrogate \\u" + hexString(u) + " followed by \\u" + hexString(low)
                                + ", not by a low surrogate");
                    }
                    b.append(u).append(low);
                } else {
                    b.append(u);
                }
            }
            default -> throw errorAt(at, "invalid escape " + describe('\\') + " followed by " + describe(e));
        }
    }

    private static String hexString(char c) {
        return String.format("%04X", (int) c);
    }

    /** Four hex digits after a {@code \\u}. */
    private char hex4() {
        if (pos + 4 > s.length()) {
            throw error("truncated \\u escape");
        }
        int cp = 0;
        for (int i = 0; i < 4; i++) {
            char h = s.charAt(pos);
            int d = h >= '0' && h <= '9' ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) {
                throw error("bad hex digit " + describe(h) + " in \\u escape");
            }
            cp = cp * 16 + d;
            pos++;
        }
        return (char) cp;
    }

    /** ASCII digits only: {@link Character#isDigit} would also accept other scripts' digits. */
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void digits() {
        while (pos < s.length() && isDigit(s.charAt(pos))) {
            pos++;
        }
    }

    private Object number() {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos >= s.length()) {
            throw error("truncated number");
        }
        char first = s.charAt(pos);
        if (first == '0') {
            pos++;
            if (pos < s.length() && isDigit(s.charAt(pos))) {
                throw error("leading zero in number");
            }
        } else if (isDigit(first)) {
            digits();
        } else {
            throw error("digit expected after '-'");
        }
        boolean integral = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integral = false;
            pos++;
            int d = pos;
            digits();
            if (d == pos) {
                throw error("digit expected after '.'");
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            int d = pos;
            digits();
            if (d == pos) {
                throw error("digit expected in exponent");
            }
        }
        if (pos - start > MAX_NUMBER_LENGTH) {
            throw errorAt(start, "number literal longer than " + MAX_NUMBER_LENGTH + " characters");
        }
        String t = s.substring(start, pos);
        if (integral) {
            if (pos - start <= 18) {
                return Long.parseLong(t);
            }
            BigInteger big = new BigInteger(t);
            return big.bitLength() < 64 ? (Object) big.longValue() : big;
        }
        return Double.parseDouble(t);
    }
}
