package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes tensors to a safetensors file the way the reference implementation does, so its files
 * and ours are byte-identical for the same input: tensors ordered by decreasing dtype alignment and
 * then by name (UTF-8 byte order), so every tensor starts at a multiple of its element size; a
 * compact JSON header with {@code __metadata__} first, padded with spaces to a multiple of 8 bytes;
 * then the raw little-endian data in row-major order.
 *
 * <p>Any tensor works: any dtype, contiguous or strided/broadcast views, heap or off-heap storage.
 * The file is written to a temporary file in the same directory and moved into place atomically,
 * so a failure (full disk, a tensor that cannot be read) leaves the target as it was, and readers
 * holding the old file mapped keep their contents.
 */
public final class SafetensorsWriter {

    /** Bytes staged in memory before they go to the channel. */
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {
    }

    /** Writes {@code tensors} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} and {@code metadata} (the {@code __metadata__} strings; written only
     * when non-empty) to {@code file}, replacing it atomically.
     *
     * @throws IllegalArgumentException for a null tensor, name or metadata entry, or a tensor named
     *                                  {@code __metadata__}
     * @throws SafetensorsException     naming the file when it cannot be written
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        List<Map.Entry<String, Tensor>> order = ordered(file, tensors);
        checkMetadata(file, metadata);
        byte[] header = header(order, metadata);

        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, prefix.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
                for (Map.Entry<String, Tensor> e : order) {
                    writeData(ch, buf, e.getValue());
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } catch (IOException e) {
            throw new SafetensorsException(file, "cannot write file: " + e, e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
    }

    /**
     * The reference's order: decreasing alignment, then name by UTF-8 bytes (Rust's string order,
     * which differs from {@link String#compareTo} for characters beyond the BMP).
     */
    private static List<Map.Entry<String, Tensor>> ordered(Path file, Map<String, Tensor> tensors) {
        List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(file + ": null tensor name or tensor (" + e.getKey() + ")");
            }
            if (e.getKey().equals("__metadata__")) {
                throw new IllegalArgumentException(file + ": \"__metadata__\" is reserved and cannot name a tensor");
            }
            order.add(Map.entry(e.getKey(), e.getValue()));
        }
        order.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> -alignmentRank(e.getValue().dtype()))
                .thenComparing((a, b) -> Arrays.compareUnsigned(a.getKey().getBytes(StandardCharsets.UTF_8),
                        b.getKey().getBytes(StandardCharsets.UTF_8))));
        return order;
    }

    /** Position in the reference's dtype enumeration, which is declared in increasing alignment. */
    static int alignmentRank(DType t) {
        return switch (t) {
            case BOOL -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case I32 -> 3;
            case F32 -> 4;
            case I64 -> 5;
        };
    }

    private static void checkMetadata(Path file, Map<String, String> metadata) {
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(file + ": null metadata key or value (" + e.getKey() + ")");
            }
        }
    }

    private static byte[] header(List<Map.Entry<String, Tensor>> order, Map<String, String> metadata) {
        StringBuilder b = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            b.append("\"__metadata__\":{");
            metadata.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> b.append(Json.quote(e.getKey()))
                    .append(':').append(Json.quote(e.getValue())).append(','));
            b.setCharAt(b.length() - 1, '}');
            b.append(',');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : order) {
            Tensor t = e.getValue();
            long bytes = Math.multiplyExact(t.numel(), t.dtype().byteSize());
            b.append(Json.quote(e.getKey())).append(":{\"dtype\":\"").append(t.dtype().safetensorsName())
                    .append("\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                b.append(i == 0 ? "" : ",").append(shape[i]);
            }
            b.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]},");
            offset += bytes;
        }
        if (b.length() > 1) {
            b.setLength(b.length() - 1);
        }
        b.append('}');
        byte[] json = b.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Row-major data of {@code t} in its dtype's little-endian encoding. */
    private static void writeData(FileChannel ch, ByteBuffer buf, Tensor t) throws IOException {
        long n = t.numel();
        if (n == 0) {
            return;
        }
        int size = t.dtype().byteSize();
        if (t.isContiguous() && t.storage() instanceof SegmentStorage(MemorySegment seg)) {
            // Already the file encoding: copy bytes, a chunk at a time (ByteBuffers stop at 2 GB).
            MemorySegment src = seg.asSlice(t.offset() * size, n * size);
            for (long p = 0; p < src.byteSize(); p += CHUNK) {
                writeFully(ch, src.asSlice(p, Math.min(CHUNK, src.byteSize() - p)).asByteBuffer());
            }
            return;
        }
        if (t.isHeapF32()) {
            float[] a = t.array();
            int from = (int) t.offset();
            int end = from + (int) n;
            while (from < end) {
                buf.clear();
                int k = Math.min(end - from, CHUNK / 4);
                buf.asFloatBuffer().put(a, from, k);
                buf.limit(4 * k);
                writeFully(ch, buf);
                from += k;
            }
            return;
        }
        int[] shape = t.shape();
        long[] strides = t.strides();
        int[] idx = new int[shape.length];
        long at = t.offset();
        buf.clear();
        for (long i = 0; i < n; i++) {
            if (buf.remaining() < size) {
                writeFully(ch, buf.flip());
                buf.clear();
            }
            putElement(buf, t.storage(), t.dtype(), at);
            // Advance the row-major index and the storage position together.
            for (int d = shape.length - 1; d >= 0; d--) {
                at += strides[d];
                if (++idx[d] < shape[d]) {
                    break;
                }
                at -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
        writeFully(ch, buf.flip());
    }

    /** One element; raw bits from segments (NaN payloads survive), encoded values otherwise. */
    private static void putElement(ByteBuffer buf, Storage storage, DType dtype, long index) {
        if (storage instanceof SegmentStorage(MemorySegment seg)) {
            switch (dtype.byteSize()) {
                case 1 -> buf.put(seg.get(ValueLayout.JAVA_BYTE, index));
                case 2 -> buf.putShort(seg.get(SegmentStorage.U16, index * 2));
                case 4 -> buf.putInt(seg.get(SegmentStorage.I32, index * 4));
                case 8 -> buf.putLong(seg.get(SegmentStorage.I64, index * 8));
                default -> throw new IllegalStateException("element size " + dtype.byteSize() + " of " + dtype);
            }
            return;
        }
        switch (dtype) {
            case F32 -> buf.putInt(Float.floatToRawIntBits(storage.getFloat(dtype, index)));
            case F16 -> buf.putShort(Float.floatToFloat16(storage.getFloat(dtype, index)));
            case BF16 -> buf.putShort(DType.floatToBf16(storage.getFloat(dtype, index)));
            case I32 -> buf.putInt((int) storage.getLong(dtype, index));
            case I64 -> buf.putLong(storage.getLong(dtype, index));
            case BOOL -> buf.put((byte) (storage.getLong(dtype, index) != 0 ? 1 : 0));
        }
    }

    /** For tests and tools: the header bytes (padded) that {@link #write} would produce. */
    static byte[] headerBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        return header(ordered(Path.of("memory"), tensors), metadata);
    }
}
