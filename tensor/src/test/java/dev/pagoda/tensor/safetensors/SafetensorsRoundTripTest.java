package dev.pagoda.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Writing with {@link SafetensorsWriter} and reading back with {@link SafetensorsFile}. */
class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    private final Random random = new Random(20240611);

    // ---------------------------------------------------------------- building tensors

    /** A contiguous off-heap tensor filled with random raw bit patterns (NaN payloads, subnormals...). */
    private Tensor randomSegmentTensor(DType dtype, int... shape) {
        Tensor t = Tensor.wrap(Arena.ofAuto().allocate(Math.max(1, numel(shape) * dtype.byteSize()), 8), dtype, shape);
        MemorySegment seg = ((SegmentStorage) t.storage()).segment();
        for (long i = 0; i < t.numel(); i++) {
            switch (dtype.byteSize()) {
                case 1 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(2));
                case 2 -> seg.set(SegmentStorage.U16, 2 * i, (short) random.nextInt());
                case 4 -> seg.set(SegmentStorage.I32, 4 * i, random.nextInt());
                default -> seg.set(SegmentStorage.I64, 8 * i, random.nextLong());
            }
        }
        return t;
    }

    private Tensor randomHeapF32(int... shape) {
        float[] a = new float[(int) numel(shape)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian() * 100f;
        }
        return Tensor.of(a, shape);
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * The row-major bytes a tensor should have on disk, computed independently of the writer: raw
     * bits for off-heap storage (so NaN payloads count), the dtype's encoding of the value otherwise.
     */
    private static byte[] expectedBytes(Tensor t) {
        ByteBuffer b = ByteBuffer.allocate((int) (t.numel() * t.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        if (t.numel() == 0) {
            return b.array();
        }
        int[] shape = t.shape();
        long[] strides = t.strides();
        int[] idx = new int[shape.length];
        do {
            long at = t.offset();
            for (int d = 0; d < shape.length; d++) {
                at += idx[d] * strides[d];
            }
            if (t.storage() instanceof SegmentStorage(MemorySegment seg)) {
                long size = t.dtype().byteSize();
                b.put(seg.asSlice(at * size, size).toArray(ValueLayout.JAVA_BYTE));
            } else {
                Storage s = t.storage();
                switch (t.dtype()) {
                    case F32 -> b.putInt(Float.floatToRawIntBits(s.getFloat(DType.F32, at)));
                    case F16 -> b.putShort(Float.floatToFloat16(s.getFloat(DType.F16, at)));
                    case BF16 -> b.putShort(DType.floatToBf16(s.getFloat(DType.BF16, at)));
                    case I32 -> b.putInt((int) s.getLong(DType.I32, at));
                    case I64 -> b.putLong(s.getLong(DType.I64, at));
                    case BOOL -> b.put((byte) s.getLong(DType.BOOL, at));
                }
            }
        } while (Shapes.increment(idx, shape));
        return b.array();
    }

    private static byte[] storedBytes(Tensor t) {
        return ((SegmentStorage) t.storage()).segment().toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] segmentBytes(Tensor contiguousSegmentTensor) {
        Tensor t = contiguousSegmentTensor;
        MemorySegment seg = ((SegmentStorage) t.storage()).segment();
        int size = t.dtype().byteSize();
        return seg.asSlice(t.offset() * size, t.numel() * size).toArray(ValueLayout.JAVA_BYTE);
    }

    private Path write(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, tensors, metadata);
        return p;
    }

    // ---------------------------------------------------------------- round trips

    @ParameterizedTest
    @EnumSource(DType.class)
    void everyDtypeRoundTripsBitExactly(DType dtype) {
        Tensor t = randomSegmentTensor(dtype, 3, 7, 5);
        Path p = write(dtype + ".safetensors", Map.of("t", t), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Tensor r = f.tensor("t");
            assertEquals(dtype, r.dtype());
            assertArrayEquals(new int[] {3, 7, 5}, r.shape());
            assertArrayEquals(segmentBytes(t), storedBytes(r));
            assertEquals(new TensorInfo("t", dtype, new int[] {3, 7, 5}, 0, 105L * dtype.byteSize()), f.info("t"));
        }
    }

    @Test
    void heapF32RoundTripsAndValuesReadBack() {
        Tensor t = randomHeapF32(4, 9);
        Path p = write("heap.safetensors", Map.of("x", t), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Tensor r = f.tensor("x");
            assertArrayEquals(t.toFloatArray(), r.toFloatArray());
            assertEquals(t.getFloat(3, 8), r.getFloat(3, 8));
        }
    }

    @Test
    void halfPrecisionValuesDecodeAsFloat16AndBfloat16() {
        Tensor h = randomSegmentTensor(DType.F16, 64);
        Tensor b = randomSegmentTensor(DType.BF16, 64);
        Path p = write("half.safetensors", Map.of("h", h, "b", b), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            MemorySegment hs = ((SegmentStorage) h.storage()).segment();
            MemorySegment bs = ((SegmentStorage) b.storage()).segment();
            Tensor hr = f.tensor("h");
            Tensor br = f.tensor("b");
            for (int i = 0; i < 64; i++) {
                float hv = Float.float16ToFloat(hs.get(SegmentStorage.U16, 2L * i));
                float bv = DType.bf16ToFloat(bs.get(SegmentStorage.U16, 2L * i));
                assertEquals(Float.floatToRawIntBits(hv), Float.floatToRawIntBits(hr.getFloat(i)), "F16 element " + i);
                assertEquals(Float.floatToRawIntBits(bv), Float.floatToRawIntBits(br.getFloat(i)), "BF16 element " + i);
            }
        }
    }

    @Test
    void stridedViewsAreWrittenInRowMajorOrder() {
        Map<String, Tensor> views = new LinkedHashMap<>();
        views.put("heap_transposed", randomHeapF32(4, 7).transpose(0, 1));
        views.put("heap_narrowed", randomHeapF32(5, 11).narrow(1, 2, 7));
        views.put("heap_expanded", randomHeapF32(1, 13).expand(3, 13));
        views.put("heap_selected", randomHeapF32(3, 5, 2).select(1, 4));
        views.put("f16_permuted", randomSegmentTensor(DType.F16, 3, 4, 5).permute(2, 0, 1));
        views.put("bf16_expanded", randomSegmentTensor(DType.BF16, 5, 1).expand(2, 5, 3));
        views.put("i64_narrow_transpose", randomSegmentTensor(DType.I64, 5, 6).narrow(0, 1, 3).transpose(0, 1));
        views.put("i32_selected", randomSegmentTensor(DType.I32, 4, 6).select(1, 5));
        views.put("bool_transposed", randomSegmentTensor(DType.BOOL, 3, 8).transpose(0, 1));
        views.put("f32_segment_offset", randomSegmentTensor(DType.F32, 6, 3).narrow(0, 2, 3));
        for (Tensor v : views.values()) {
            assertTrue(!v.isContiguous() || v.offset() != 0, "test views are strided or offset: " + v);
        }
        Path p = write("views.safetensors", views, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (Map.Entry<String, Tensor> e : views.entrySet()) {
                Tensor r = f.tensor(e.getKey());
                assertArrayEquals(e.getValue().shape(), r.shape(), e.getKey());
                assertEquals(e.getValue().dtype(), r.dtype(), e.getKey());
                assertArrayEquals(expectedBytes(e.getValue()), storedBytes(r), e.getKey());
            }
        }
    }

    @Test
    void tensorsLargerThanTheStagingBufferRoundTrip() {
        Tensor heap = randomHeapF32(300_001);
        Tensor strided = randomSegmentTensor(DType.F16, 701, 1003).transpose(0, 1);
        Tensor contiguous = randomSegmentTensor(DType.I64, 140_000);
        Path p = write("big.safetensors", Map.of("heap", heap, "strided", strided, "contiguous", contiguous), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(heap.toFloatArray(), f.tensor("heap").toFloatArray());
            assertArrayEquals(expectedBytes(strided), storedBytes(f.tensor("strided")));
            assertArrayEquals(segmentBytes(contiguous), storedBytes(f.tensor("contiguous")));
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void emptyTensorsAndScalarsRoundTrip(DType dtype) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("empty", randomSegmentTensor(dtype, 0));
        m.put("empty3d", randomSegmentTensor(dtype, 3, 0, 2));
        m.put("scalar", randomSegmentTensor(dtype));
        Path p = write("edge_" + dtype + ".safetensors", m, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new int[] {0}, f.tensor("empty").shape());
            assertArrayEquals(new int[] {3, 0, 2}, f.tensor("empty3d").shape());
            assertEquals(0, f.info("empty3d").byteSize());
            Tensor s = f.tensor("scalar");
            assertEquals(0, s.rank());
            assertEquals(1, s.numel());
            assertArrayEquals(segmentBytes(m.get("scalar")), storedBytes(s));
        }
    }

    @Test
    void heapScalarRoundTrips() {
        Path p = write("scalar.safetensors", Map.of("s", Tensor.of(new float[] {-2.5f})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(-2.5f, f.tensor("s").item());
        }
    }

    @Test
    void metadataAndAwkwardNamesRoundTrip() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("quote\"back\\slash", "line\nbreak\ttab \u0001 ctrl");
        meta.put("日本", "😀 emoji");
        meta.put("", "empty key");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a.\"quoted\".name", randomHeapF32(2));
        tensors.put("unicode.日本.😀", randomHeapF32(3));
        tensors.put("", randomHeapF32(1));
        tensors.put("new\nline", randomSegmentTensor(DType.I32, 2));
        Path p = write("meta.safetensors", tensors, meta);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(meta, f.metadata());
            assertEquals(tensors.keySet(), f.names());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                assertArrayEquals(expectedBytes(e.getValue()), storedBytes(f.tensor(e.getKey())), e.getKey());
            }
        }
    }

    // ---------------------------------------------------------------- byte layout of the reference

    private static byte[] fileBytes(String json, int padTo, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int n = (h.length + padTo - 1) / padTo * padTo;
        ByteBuffer b = ByteBuffer.allocate(8 + n + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(h);
        for (int i = h.length; i < n; i++) {
            b.put((byte) ' ');
        }
        return b.put(data).array();
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    @Test
    void bytesMatchTheReferenceWriterForItsOwnExamples() throws IOException {
        float[] v = {0, 1, 2, 3, 4, 5};
        // 64-byte header: no padding needed.
        Path a = write("a.safetensors", Map.of("attn.0", Tensor.of(v.clone(), 1, 2, 3)), Map.of());
        assertArrayEquals(fileBytes("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 8,
                floats(v)), Files.readAllBytes(a));
        // 65-byte header: padded with 7 spaces to 72.
        Path b = write("b.safetensors", Map.of("attn0", Tensor.of(v.clone(), 1, 1, 2, 3)), Map.of());
        byte[] expected = fileBytes("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}", 8,
                floats(v));
        assertEquals(72, ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertArrayEquals(expected, Files.readAllBytes(b));
        // No tensors: "{}" and six spaces.
        Path c = write("c.safetensors", Map.of(), Map.of());
        assertArrayEquals(fileBytes("{}", 8, new byte[0]), Files.readAllBytes(c));
        assertEquals(16, Files.size(c));
        // Metadata only.
        Path d = write("d.safetensors", Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(fileBytes("{\"__metadata__\":{\"framework\":\"pt\"}}", 8, new byte[0]),
                Files.readAllBytes(d));
    }

    @Test
    void tensorsAreOrderedByDecreasingAlignmentThenUtf8NameAndStayAligned() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("b_bool", randomSegmentTensor(DType.BOOL, 3));
        m.put("a_bool", randomSegmentTensor(DType.BOOL, 5));
        m.put("f16", randomSegmentTensor(DType.F16, 3));
        m.put("bf16", randomSegmentTensor(DType.BF16, 1));
        m.put("\uFFFD", randomSegmentTensor(DType.F32, 1));
        m.put("😀", randomSegmentTensor(DType.F32, 1));
        m.put("B", randomSegmentTensor(DType.F32, 1));
        m.put("a", randomSegmentTensor(DType.F32, 1));
        m.put("i32", randomSegmentTensor(DType.I32, 3));
        m.put("i64", randomSegmentTensor(DType.I64, 1));
        Path p = write("order.safetensors", m, Map.of());
        // UTF-8 byte order puts U+FFFD (EF BF BD) before U+1F600 (F0 9F 98 80); UTF-16 order would not.
        List<String> expected = List.of("i64", "B", "a", "\uFFFD", "😀", "i32", "bf16", "f16", "a_bool", "b_bool");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(expected, List.copyOf(f.names()));
            long previousEnd = 0;
            for (String name : expected) {
                TensorInfo info = f.info(name);
                assertEquals(previousEnd, info.begin(), name);
                assertEquals(0, (f.dataStart() + info.begin()) % info.dtype().byteSize(), name + " is aligned");
                previousEnd = info.end();
            }
        }
        assertEquals(0, f(p) % 8, "data region starts at a multiple of 8");
    }

    private static long f(Path p) {
        try (SafetensorsFile file = SafetensorsFile.open(p)) {
            return file.dataStart();
        }
    }

    @Test
    void headerJsonIsCompactAndListsMetadataFirst() {
        byte[] h = SafetensorsWriter.headerBytes(Map.of("w", Tensor.of(new float[] {1, 2}, 2)),
                Map.of("z", "1", "a", "2"));
        String text = new String(h, StandardCharsets.UTF_8);
        assertEquals(0, h.length % 8);
        assertEquals("{\"__metadata__\":{\"a\":\"2\",\"z\":\"1\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                + "\"data_offsets\":[0,8]}}", text.stripTrailing());
        assertEquals(Map.of("a", "2", "z", "1"), Json.parseObject(text).get("__metadata__"));
    }

    // ---------------------------------------------------------------- failures and atomicity

    /** Storage whose reads fail after a number of elements: a device error in the middle of a write. */
    private record FailingStorage(int failAt) implements Storage {
        @Override
        public long byteSize() {
            return 4L * 1_000_000;
        }

        @Override
        public float getFloat(DType dtype, long index) {
            if (index >= failAt) {
                throw new IllegalStateException("device lost at element " + index);
            }
            return index;
        }

        @Override
        public void setFloat(DType dtype, long index, float value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long getLong(DType dtype, long index) {
            return (long) getFloat(dtype, index);
        }

        @Override
        public void setLong(DType dtype, long index, long value) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void failedWriteLeavesTheExistingFileUntouchedAndNoTemporaryFile() throws IOException {
        Path p = write("keep.safetensors", Map.of("old", Tensor.of(new float[] {7, 8}, 2)), Map.of());
        byte[] before = Files.readAllBytes(p);
        Tensor failing = new Tensor(DType.F32, new int[] {1_000_000}, new long[] {1}, 0, new FailingStorage(600_000));
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("good", randomHeapF32(1000));
        m.put("zz_failing", failing);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(p, m));
        assertEquals("device lost at element 600000", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void writerRefusesReservedAndNullNamesWithoutCreatingAFile() {
        Path p = dir.resolve("reserved.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(p, Map.of("__metadata__", Tensor.scalar(1))));
        assertTrue(e.getMessage().contains("\"__metadata__\" is reserved"), e.getMessage());
        Map<String, Tensor> withNull = new LinkedHashMap<>();
        withNull.put("x", null);
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(p, withNull));
        Map<String, String> nullMeta = new LinkedHashMap<>();
        nullMeta.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(p, Map.of(), nullMeta));
        assertTrue(Files.notExists(p));
    }

    @Test
    void writeIntoMissingFolderNamesTheFile() {
        Path p = dir.resolve("no/such/folder/x.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> SafetensorsWriter.write(p, Map.of("x", Tensor.scalar(1))));
        assertTrue(e.getMessage().startsWith(p + ": cannot write file"), e.getMessage());
    }

    @Test
    void replacingAMappedFileLeavesOpenReadersOnTheOldContents() {
        Path p = write("swap.safetensors", Map.of("x", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of());
        try (SafetensorsFile old = SafetensorsFile.open(p)) {
            Tensor before = old.tensor("x");
            SafetensorsWriter.write(p, Map.of("y", Tensor.of(new float[] {9, 9}, 2)));
            assertArrayEquals(new float[] {1, 2, 3}, before.toFloatArray());
            try (SafetensorsFile fresh = SafetensorsFile.open(p)) {
                assertEquals(List.of("y"), List.copyOf(fresh.names()));
            }
        }
    }

    @Test
    void closeIsIdempotentAndLaterReadsAreRefused() {
        Path p = write("close.safetensors", Map.of("x", Tensor.of(new float[] {1}, 1)), Map.of());
        SafetensorsFile f = SafetensorsFile.open(p);
        f.close();
        f.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.tensor("x"));
        assertTrue(e.getMessage().contains("after close()"), e.getMessage());
    }
}
