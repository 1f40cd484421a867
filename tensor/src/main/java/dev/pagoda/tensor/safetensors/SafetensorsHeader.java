package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of a safetensors file. Nothing in the header is trusted before it is
 * checked, and the rules are the reference implementation's (huggingface/safetensors):
 * the header length is at most 100,000,000 bytes and inside the file; the header is UTF-8 JSON
 * starting with <code>{</code> (trailing whitespace padding allowed); every tensor's shape × dtype
 * size equals its byte span; and the byte ranges, taken in offset order, tile the data region
 * exactly: no overlap, no hole, no trailing bytes. Every violation is a
 * {@link SafetensorsException} naming the file and the rule.
 *
 * @param headerLength the N of the 8-byte prefix; the data region starts at {@code 8 + N}
 * @param tensors      tensor entries in header order
 * @param metadata     the {@code __metadata__} strings (empty when absent)
 */
record SafetensorsHeader(long headerLength, Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** The reference reader's limit on N. */
    static final long MAX_HEADER = 100_000_000L;

    /** The smallest header that can hold a JSON object: <code>{}</code>. */
    static final long MIN_HEADER = 2;

    /** Every dtype name of the safetensors format, so that one Pagoda lacks reads as unsupported, not unknown. */
    private static final Set<String> FORMAT_DTYPES = Set.of("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8",
            "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64",
            "I64", "U64");

    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

    /**
     * Checks the 8-byte little-endian prefix {@code n} against the file size; returns N.
     */
    static long checkLength(Path path, long n, long fileSize) {
        if (Long.compareUnsigned(n, MAX_HEADER) > 0) {
            throw new SafetensorsException(path, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER + " bytes");
        }
        if (n < MIN_HEADER) {
            throw new SafetensorsException(path, "header length " + n
                    + " is too small to hold a JSON object (at least 2 bytes)");
        }
        if (n > fileSize - 8) {
            throw new SafetensorsException(path, "header length " + n + " runs past the end of the file (" + fileSize
                    + " bytes, header would end at " + (8 + n) + ")");
        }
        return n;
    }

    /** Parses and validates the header bytes of a file whose data region holds {@code dataSize} bytes. */
    static SafetensorsHeader parse(Path path, byte[] header, long dataSize) {
        if (header[0] != '{') {
            throw new SafetensorsException(path, "header does not start with '{' (found byte 0x"
                    + String.format("%02X", header[0] & 0xFF) + ")");
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(decodeUtf8(path, header));
        } catch (JsonException e) {
            throw new SafetensorsException(path, "header is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, Object> kv : json.entrySet()) {
            if (kv.getKey().equals("__metadata__")) {
                metadata = parseMetadata(path, kv.getValue());
            } else {
                tensors.put(kv.getKey(), parseEntry(path, kv.getKey(), kv.getValue(), dataSize));
            }
        }
        checkLayout(path, tensors.values(), dataSize);
        return new SafetensorsHeader(header.length, Collections.unmodifiableMap(tensors), metadata);
    }

    /** Strict decoding, reporting where the first bad byte is. */
    private static String decodeUtf8(Path path, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new SafetensorsException(path, "header is not valid UTF-8 (bad byte 0x"
                    + String.format("%02X", bytes[in.position()] & 0xFF) + " at header offset " + in.position() + ")");
        }
        r = dec.flush(out);
        if (r.isError()) {
            throw new SafetensorsException(path, "header is not valid UTF-8 (truncated sequence at the end)");
        }
        return out.flip().toString();
    }

    private static Map<String, String> parseMetadata(Path path, Object v) {
        if (v == null) {
            return Map.of(); // the reference reads null as "no metadata"
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafetensorsException(path, "__metadata__ must be an object of strings, found "
                    + Json.typeName(v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsException(path, "__metadata__ value of " + Json.quote((String) e.getKey())
                        + " must be a string, found " + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path path, String name, Object v, long dataSize) {
        String what = "tensor " + Json.quote(name);
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafetensorsException(path, what + ": entry must be an object, found " + Json.typeName(v));
        }
        for (Object key : m.keySet()) {
            if (!ENTRY_FIELDS.contains(key)) {
                throw new SafetensorsException(path, what + ": unknown field " + Json.quote((String) key)
                        + " (allowed: dtype, shape, data_offsets)");
            }
        }
        DType dtype = parseDtype(path, what, m.get("dtype"), m.containsKey("dtype"));
        int[] shape = parseShape(path, what, m.get("shape"), m.containsKey("shape"));
        long[] offsets = parseOffsets(path, what, m.get("data_offsets"), m.containsKey("data_offsets"));
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsException(path, what + ": data_offsets [" + begin + ", " + end
                    + "] are reversed (end before begin)");
        }
        if (end > dataSize) {
            throw new SafetensorsException(path, what + ": data_offsets [" + begin + ", " + end
                    + "] end beyond the data region of " + dataSize + " bytes");
        }
        long count = 1;
        for (int d : shape) {
            count = multiply(path, what, "element count of shape " + Shapes.str(shape), count, d);
        }
        long bytes = multiply(path, what, "byte size of " + dtype + " " + Shapes.str(shape), count, dtype.byteSize());
        if (bytes != end - begin) {
            throw new SafetensorsException(path, what + ": " + dtype + " " + Shapes.str(shape) + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long multiply(Path path, String what, String quantity, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(path, what + ": " + quantity + " overflows 64 bits");
        }
    }

    private static DType parseDtype(Path path, String what, Object v, boolean present) {
        if (!present) {
            throw new SafetensorsException(path, what + ": dtype is missing");
        }
        if (!(v instanceof String name)) {
            throw new SafetensorsException(path, what + ": dtype must be a string, found " + Json.typeName(v));
        }
        DType dtype = DType.fromSafetensorsName(name);
        if (dtype == null) {
            if (FORMAT_DTYPES.contains(name)) {
                throw new SafetensorsException(path, what + ": unsupported dtype " + Json.quote(name)
                        + " (Pagoda reads F32, F16, BF16, I32, I64, BOOL)");
            }
            throw new SafetensorsException(path, what + ": unknown dtype " + Json.quote(name)
                    + " (not a safetensors dtype)");
        }
        return dtype;
    }

    private static int[] parseShape(Path path, String what, Object v, boolean present) {
        if (!present) {
            throw new SafetensorsException(path, what + ": shape is missing");
        }
        if (!(v instanceof List<?> list)) {
            throw new SafetensorsException(path, what + ": shape must be an array, found " + Json.typeName(v));
        }
        int[] shape = new int[list.size()];
        for (int i = 0; i < shape.length; i++) {
            Object d = list.get(i);
            String at = what + ": shape[" + i + "] = " + display(d);
            if (d instanceof BigInteger b) {
                throw new SafetensorsException(path, at + (b.signum() < 0 ? " is negative"
                        : " is too large (dimensions must be below 2^31)"));
            }
            if (!(d instanceof Long n)) {
                throw new SafetensorsException(path, at + " is not an integer (found " + Json.typeName(d) + ")");
            }
            if (n < 0) {
                throw new SafetensorsException(path, at + " is negative");
            }
            if (n > Integer.MAX_VALUE) {
                throw new SafetensorsException(path, at + " is too large (dimensions must be below 2^31)");
            }
            shape[i] = (int) (long) n;
        }
        return shape;
    }

    private static long[] parseOffsets(Path path, String what, Object v, boolean present) {
        if (!present) {
            throw new SafetensorsException(path, what + ": data_offsets is missing");
        }
        if (!(v instanceof List<?> list)) {
            throw new SafetensorsException(path, what + ": data_offsets must be an array [begin, end], found "
                    + Json.typeName(v));
        }
        if (list.size() != 2) {
            throw new SafetensorsException(path, what + ": data_offsets must have 2 entries [begin, end], found "
                    + list.size());
        }
        long[] out = new long[2];
        for (int i = 0; i < 2; i++) {
            Object o = list.get(i);
            String at = what + ": data_offsets[" + i + "] = " + display(o);
            if (o instanceof BigInteger b) {
                throw new SafetensorsException(path, at + (b.signum() < 0 ? " is negative"
                        : " does not fit in 64 bits"));
            }
            if (!(o instanceof Long n)) {
                throw new SafetensorsException(path, at + " is not an integer (found " + Json.typeName(o) + ")");
            }
            if (n < 0) {
                throw new SafetensorsException(path, at + " is negative");
            }
            out[i] = n;
        }
        return out;
    }

    /** A JSON value for an error message, cut short so a hostile header cannot flood the log. */
    private static String display(Object v) {
        String s = v instanceof String str ? Json.quote(str) : String.valueOf(v);
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }

    /** Byte ranges in offset order must tile {@code [0, dataSize)}: no overlap, no hole, nothing left over. */
    private static void checkLayout(Path path, Iterable<TensorInfo> entries, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>();
        entries.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        TensorInfo previous = null;
        for (TensorInfo e : sorted) {
            if (e.begin() < pos) {
                throw new SafetensorsException(path, "tensor " + Json.quote(e.name()) + " [" + e.begin() + ", "
                        + e.end() + ") overlaps tensor " + Json.quote(previous.name()) + " [" + previous.begin()
                        + ", " + previous.end() + ")");
            }
            if (e.begin() > pos) {
                throw new SafetensorsException(path, "gap of " + (e.begin() - pos) + " unused bytes before tensor "
                        + Json.quote(e.name()) + " (data_offsets begin " + e.begin() + ", previous data ends at "
                        + pos + "); tensors must cover the data region without holes");
            }
            pos = e.end();
            previous = e;
        }
        if (pos != dataSize) {
            throw new SafetensorsException(path, (dataSize - pos) + " trailing bytes after the last tensor (data"
                    + " region is " + dataSize + " bytes, tensors cover " + pos + ")");
        }
    }
}
