package dev.pagoda.diffusion.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seeded mutations of a seed input. Byte-level operators (flips, interesting bytes, cut, duplicate,
 * splice) find framing bugs; the text operators replace JSON numbers, strings and values with the
 * boundary values that overflow, negate or retype a field, which random bytes almost never produce.
 */
final class Mutator {

    /** Numbers that sit on the edges parsers get wrong: int/long limits, negative, huge, non-finite. */
    static final List<String> NUMBERS = List.of("0", "-1", "1", "2", "7", "8", "255", "65535", "2147483647",
            "2147483648", "-2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "18446744073709551616", "1e308", "1e309", "-1e309", "1.5", "0.0", "-0.0",
            "NaN", "Infinity", "-Infinity", "1e-320", "3.0000000000000004", "100000000", "46341", "1073741824");
    private static final List<String> VALUES = List.of("null", "true", "false", "\"\"", "[]", "{}", "[[]]",
            "\"x\"", "[1,2]", "{\"a\":1}", "[\"a\"]", "\"\\ud800\"", "\"\\u0000\"", "[null]", "-1", "1e999");
    private static final byte[] INTERESTING = {0, 1, -1, 0x7f, (byte) 0x80, 0x20, '"', '{', '}', '[', ']', ',',
            ':', '\\', (byte) 0xc3, (byte) 0xed, (byte) 0xa0, (byte) 0xf0, (byte) 0xff, '0', '9', '\n'};
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern VALUE = Pattern.compile(
            "-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?|\"(?:[^\"\\\\]|\\\\.)*\"|true|false|null|\\[\\]|\\{\\}");

    private Mutator() {
    }

    /** One to four byte-level mutations of {@code seed}; {@code other} is a splice donor. */
    static byte[] bytes(byte[] seed, byte[] other, Random r) {
        byte[] b = seed.clone();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            b = byteOnce(b, other, r);
        }
        return b;
    }

    private static byte[] byteOnce(byte[] b, byte[] other, Random r) {
        if (b.length == 0) {
            return new byte[] {INTERESTING[r.nextInt(INTERESTING.length)]};
        }
        int pos = r.nextInt(b.length);
        switch (r.nextInt(8)) {
            case 0 -> b[pos] ^= (byte) (1 << r.nextInt(8));
            case 1 -> b[pos] = INTERESTING[r.nextInt(INTERESTING.length)];
            case 2 -> b[pos] = (byte) r.nextInt(256);
            case 3 -> { // delete a range
                int len = 1 + r.nextInt(Math.min(b.length - pos, 1 + r.nextInt(64)));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, pos);
                System.arraycopy(b, pos + len, out, pos, b.length - pos - len);
                return out;
            }
            case 4 -> { // duplicate a range in place
                int len = 1 + r.nextInt(Math.min(b.length - pos, 1 + r.nextInt(64)));
                return insert(b, r.nextInt(b.length + 1), b, pos, len);
            }
            case 5 -> { // splice a range from the donor
                if (other.length > 0) {
                    int from = r.nextInt(other.length);
                    int len = 1 + r.nextInt(Math.min(other.length - from, 1 + r.nextInt(128)));
                    return insert(b, pos, other, from, len);
                }
            }
            case 6 -> { // truncate
                return java.util.Arrays.copyOf(b, pos);
            }
            default -> { // overwrite a little-endian 32-bit word with a boundary value
                long[] words = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffffL, 1L << 31, 0x10000};
                long w = words[r.nextInt(words.length)];
                for (int k = 0; k < 4 && pos + k < b.length; k++) {
                    b[pos + k] = (byte) (w >>> (8 * k));
                }
            }
        }
        return b;
    }

    private static byte[] insert(byte[] b, int at, byte[] src, int from, int len) {
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(src, from, out, at, len);
        System.arraycopy(b, at, out, at + len, b.length - at);
        return out;
    }

    /**
     * One to three JSON-aware mutations of {@code text} (a number becomes a boundary number, a value
     * another type, a key is duplicated, a string is emptied or made huge), then sometimes a byte-level one.
     */
    static byte[] json(String text, byte[] other, Random r) {
        String s = text;
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            s = jsonOnce(s, r);
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return r.nextInt(4) == 0 ? bytes(b, other, r) : b;
    }

    private static String jsonOnce(String s, Random r) {
        switch (r.nextInt(5)) {
            case 0 -> {
                return replaceOne(s, NUMBER, r, m -> NUMBERS.get(r.nextInt(NUMBERS.size())));
            }
            case 1 -> {
                return replaceOne(s, VALUE, r, m -> VALUES.get(r.nextInt(VALUES.size())));
            }
            case 2 -> {
                return replaceOne(s, STRING, r, m -> switch (r.nextInt(4)) {
                    case 0 -> "\"\"";
                    case 1 -> "\"" + "a".repeat(1 + r.nextInt(5000)) + "\"";
                    case 2 -> "\"\\udc00\\ud800\"";
                    default -> m;
                });
            }
            case 3 -> { // duplicate a member: "k": v, becomes "k": v, "k": v,
                Matcher m = Pattern.compile("\"[^\"]*\"\\s*:\\s*[^,{}\\[\\]]*,").matcher(s);
                int count = (int) m.results().count();
                if (count == 0) {
                    return s;
                }
                m.reset();
                int pick = r.nextInt(count);
                for (int i = 0; m.find(); i++) {
                    if (i == pick) {
                        return s.substring(0, m.end()) + m.group() + s.substring(m.end());
                    }
                }
                return s;
            }
            default -> { // wrap a value in a list
                return replaceOne(s, VALUE, r, m -> "[" + m + "]");
            }
        }
    }

    private static String replaceOne(String s, Pattern p, Random r, java.util.function.Function<String, String> f) {
        Matcher m = p.matcher(s);
        List<int[]> spans = new java.util.ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return s;
        }
        int[] span = spans.get(r.nextInt(spans.size()));
        return s.substring(0, span[0]) + f.apply(s.substring(span[0], span[1])) + s.substring(span[1]);
    }

    /** Lines of text with lines dropped, duplicated, swapped or given extra fields. */
    static byte[] lines(String text, byte[] other, Random r) {
        List<String> lines = new java.util.ArrayList<>(List.of(text.split("\n", -1)));
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n && !lines.isEmpty(); i++) {
            int k = r.nextInt(lines.size());
            switch (r.nextInt(5)) {
                case 0 -> lines.remove(k);
                case 1 -> lines.add(r.nextInt(lines.size() + 1), lines.get(k));
                case 2 -> lines.set(k, lines.get(k) + " " + lines.get(r.nextInt(lines.size())));
                case 3 -> lines.set(k, lines.get(k).replace(" ", ""));
                default -> lines.set(k, "");
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
        byte[] b = out.toByteArray();
        return r.nextInt(3) == 0 ? bytes(b, other, r) : b;
    }
}
