package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file mapped into memory (FFM, so files over 2 GB work). Tensors are zero-copy
 * views of the mapping in their stored dtype; they stay valid until {@link #close()}.
 */
public final class SafetensorsFile implements TensorStore {

    /** One header entry. */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates {@code path}. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment all = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            SafetensorsHeader header = SafetensorsHeader.parse(path, all, size);
            MemorySegment data = all.asSlice(8 + header.headerLength());
            return new SafetensorsFile(path, arena, data, header.entries(), header.metadata());
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(path, "cannot read file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    @Override
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafetensorsException(path, "no tensor named \"" + name + "\"");
        }
        return e;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor {@code name}: a zero-copy view of the mapping in its stored dtype. */
    @Override
    public Tensor tensor(String name) {
        Entry e = entry(name);
        return Tensor.wrap(data.asSlice(e.begin(), e.end() - e.begin()), e.dtype(), e.shape());
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Parsing and validation of the 8-byte length and the JSON header. */
    record SafetensorsHeader(long headerLength, Map<String, Entry> entries, Map<String, String> metadata) {

        /** Headers above this are refused rather than read (the format's reference reader uses 100 MB). */
        static final long MAX_HEADER = 100L * 1024 * 1024;

        static SafetensorsHeader parse(Path path, MemorySegment all, long fileSize) {
            if (fileSize < 8) {
                throw new SafetensorsException(path, "file is " + fileSize
                        + " bytes, shorter than the 8-byte header length");
            }
            long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n < 2 || n > MAX_HEADER) {
                throw new SafetensorsException(path, "header length " + Long.toUnsignedString(n)
                        + " is outside [2, " + MAX_HEADER + "]");
            }
            if (n > fileSize - 8) {
                throw new SafetensorsException(path, "header length " + n + " exceeds the file size " + fileSize);
            }
            byte[] bytes = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new SafetensorsException(path, "header is not valid UTF-8");
            }
            Map<String, Object> json;
            try {
                json = Json.parseObject(text);
            } catch (JsonException e) {
                throw new SafetensorsException(path, "header is not valid JSON: " + e.getMessage());
            }
            long dataSize = fileSize - 8 - n;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = Map.of();
            for (Map.Entry<String, Object> kv : json.entrySet()) {
                String name = kv.getKey();
                if (name.equals("__metadata__")) {
                    metadata = parseMetadata(path, kv.getValue());
                    continue;
                }
                entries.put(name, parseEntry(path, name, kv.getValue(), dataSize));
            }
            checkLayout(path, entries, dataSize);
            return new SafetensorsHeader(n, Collections.unmodifiableMap(entries), metadata);
        }

        private static Map<String, String> parseMetadata(Path path, Object v) {
            if (!(v instanceof Map<?, ?> m)) {
                throw new SafetensorsException(path, "__metadata__ must be an object of strings, found "
                        + Json.typeName(v));
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getValue() instanceof String s)) {
                    throw new SafetensorsException(path, "__metadata__ value of \"" + e.getKey()
                            + "\" must be a string, found " + Json.typeName(e.getValue()));
                }
                out.put((String) e.getKey(), s);
            }
            return Collections.unmodifiableMap(out);
        }

        private static Entry parseEntry(Path path, String name, Object v, long dataSize) {
            if (!(v instanceof Map<?, ?> m)) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": entry must be an object, found "
                        + Json.typeName(v));
            }
            for (Object key : m.keySet()) {
                if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                    throw new SafetensorsException(path, "tensor \"" + name + "\": unknown field \"" + key + "\"");
                }
            }
            if (!(m.get("dtype") instanceof String dtypeName)) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": dtype missing or not a string");
            }
            DType dtype = DType.fromSafetensorsName(dtypeName);
            if (dtype == null) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": unsupported dtype \"" + dtypeName
                        + "\" (supported: F32, F16, BF16, I32, I64, BOOL)");
            }
            if (!(m.get("shape") instanceof List<?> shapeList)) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": shape missing or not an array");
            }
            int[] shape = new int[shapeList.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                    throw new SafetensorsException(path, "tensor \"" + name + "\": shape entry " + i + " ("
                            + shapeList.get(i) + ") is not an integer in [0, 2^31)");
                }
                shape[i] = (int) (long) d;
                try {
                    count = Math.multiplyExact(count, d);
                } catch (ArithmeticException e) {
                    throw new SafetensorsException(path, "tensor \"" + name + "\": element count overflows");
                }
            }
            if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                    || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
                throw new SafetensorsException(path, "tensor \"" + name
                        + "\": data_offsets must be an array of two integers");
            }
            if (begin < 0 || end < begin) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": data_offsets [" + begin + ", " + end
                        + "] are not an ascending non-negative range");
            }
            if (end > dataSize) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": data_offsets end " + end
                        + " lies beyond the data region of " + dataSize + " bytes");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(count, dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": byte size overflows");
            }
            if (bytes != end - begin) {
                throw new SafetensorsException(path, "tensor \"" + name + "\": " + dtype + " "
                        + java.util.Arrays.toString(shape) + " needs " + bytes + " bytes but data_offsets span "
                        + (end - begin));
            }
            return new Entry(name, dtype, shape, begin, end);
        }

        /** Entries must tile the data region: sorted by offset, no overlap, no gap, nothing left over. */
        private static void checkLayout(Path path, Map<String, Entry> entries, long dataSize) {
            List<Entry> sorted = entries.values().stream()
                    .sorted((a, b) -> a.begin() != b.begin() ? Long.compare(a.begin(), b.begin())
                            : Long.compare(a.end(), b.end()))
                    .toList();
            long pos = 0;
            for (Entry e : sorted) {
                if (e.begin() < pos) {
                    throw new SafetensorsException(path, "tensor \"" + e.name() + "\" overlaps the previous tensor"
                            + " (starts at " + e.begin() + ", previous ends at " + pos + ")");
                }
                if (e.begin() > pos) {
                    throw new SafetensorsException(path, "gap of " + (e.begin() - pos) + " bytes before tensor \""
                            + e.name() + "\"");
                }
                pos = e.end();
            }
            if (pos != dataSize) {
                throw new SafetensorsException(path, "data region is " + dataSize + " bytes but tensors cover "
                        + pos);
            }
        }
    }
}
