package dev.pagoda.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorTest {

    /** 0, 1, 2, ... in the given shape. */
    private static Tensor iota(int... shape) {
        float[] v = new float[Math.toIntExact(Shapes.numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(v, shape);
    }

    private static void assertMessage(Executable e, String... parts) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String p : parts) {
            assertTrue(ex.getMessage().contains(p), "message '" + ex.getMessage() + "' lacks '" + p + "'");
        }
    }

    // ---------------------------------------------------------------- factories

    @Test
    void factoriesCheckTheirArguments() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(new long[] {3, 1}, t.strides());
        assertTrue(t.isHeapF32());
        assertMessage(() -> Tensor.of(new float[5], 2, 3), "5 values", "[2, 3]");
        assertMessage(() -> Tensor.zeros(2, -1), "[2, -1]");
        assertMessage(() -> Tensor.zeros(DType.F16, -3), "[-3]");
        assertMessage(() -> Tensor.zeros(65536, 65536), "[65536, 65536]");
        assertMessage(() -> Tensor.ofLongs(new long[] {1, 2}, 3), "[3]");
        assertMessage(() -> Tensor.ofInts(new int[] {1}, 2), "[2]");
        assertEquals(0, Tensor.scalar(3f).rank());
        assertEquals(3f, Tensor.scalar(3f).item());
        assertEquals(1, Tensor.scalar(3f).numel());
    }

    @Test
    void offHeapZerosAreZeroAndTyped() {
        for (DType dt : DType.values()) {
            Tensor z = Tensor.zeros(dt, 3, 1000);
            assertEquals(dt, z.dtype());
            assertFalse(z.isHeapF32() && dt != DType.F32);
            for (float f : z.toFloatArray()) {
                assertEquals(0f, f, dt.name());
            }
        }
        Tensor l = Tensor.ofLongs(new long[] {Long.MIN_VALUE, 5}, 2);
        assertArrayEquals(new long[] {Long.MIN_VALUE, 5}, l.toLongArray());
        assertEquals(5L, l.getLong(1));
        Tensor i = Tensor.ofInts(new int[] {-1, 7}, 1, 2);
        assertEquals(-1L, i.getLong(0, 0));
        assertEquals(7f, i.getFloat(0, 1));
    }

    @Test
    void wrapViewsASegmentWithoutCopying() {
        MemorySegment seg = Arena.ofAuto().allocate(6 * 2, 8);
        for (int i = 0; i < 6; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(i * 0.5f));
        }
        Tensor t = Tensor.wrap(seg, DType.F16, 2, 3);
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 1.5f, 2f, 2.5f}, t.toFloatArray());
        seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 5, Float.floatToFloat16(-1f));
        assertEquals(-1f, t.getFloat(1, 2));
        assertMessage(() -> Tensor.wrap(seg, DType.F32, 2, 3), "12 bytes", "24 bytes");
    }

    @Test
    void elementAccessChecksIndices() {
        Tensor t = iota(2, 3);
        assertEquals(5f, t.getFloat(1, 2));
        t.setFloat(-4f, 0, 1);
        assertEquals(-4f, t.getFloat(0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(0, -1));
        assertMessage(() -> t.getFloat(1), "rank 1", "[2, 3]");
        assertThrows(IllegalStateException.class, t::item);
        assertThrows(IllegalStateException.class, () -> t.transpose(0, 1).array());
        assertEquals(3, t.dim(-1));
        assertEquals(1, t.stride(-1));
        assertMessage(() -> t.dim(2), "axis 2", "[2, 3]");
    }

    // ---------------------------------------------------------------- views

    @Test
    void reshapeIsAViewWhenContiguousAndInfersOneDimension() {
        Tensor t = iota(2, 3, 4);
        Tensor r = t.reshape(4, -1);
        assertArrayEquals(new int[] {4, 6}, r.shape());
        assertSame(t.storage(), r.storage());
        assertArrayEquals(t.toFloatArray(), r.toFloatArray());
        assertArrayEquals(new int[] {24}, t.reshape(-1).shape());
        assertArrayEquals(new int[] {5, 0}, Tensor.zeros(0, 5).reshape(5, 0).shape());
        // a transposed view is copied first
        Tensor tr = t.transpose(1, 2);
        Tensor rr = tr.reshape(2, 12);
        assertNotSame(t.storage(), rr.storage());
        assertEquals(t.getFloat(1, 2, 3), rr.getFloat(1, 3 * 3 + 2));
        // a narrowed, still contiguous view keeps its offset
        Tensor second = t.narrow(0, 1, 1).reshape(12);
        assertSame(t.storage(), second.storage());
        assertEquals(12f, second.getFloat(0));
        assertMessage(() -> t.reshape(5, 5), "reshape", "[2, 3, 4]", "[5, 5]");
        assertMessage(() -> t.reshape(-1, -1), "two -1");
        assertMessage(() -> t.reshape(5, -1), "cannot infer");
        assertMessage(() -> t.reshape(-2, 12), "negative");
    }

    @Test
    void permuteAndTransposeReorderAxes() {
        Tensor t = iota(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertArrayEquals(new long[] {1, 12, 4}, p.strides());
        assertFalse(p.isContiguous());
        assertEquals(t.getFloat(1, 2, 3), p.getFloat(3, 1, 2));
        assertArrayEquals(p.shape(), t.permute(-1, 0, -2).shape());
        Tensor tr = t.transpose(0, -1);
        assertArrayEquals(new int[] {4, 3, 2}, tr.shape());
        assertEquals(t.getFloat(1, 0, 2), tr.getFloat(2, 0, 1));
        assertSame(t.storage(), tr.storage());
        assertArrayEquals(t.toFloatArray(), t.transpose(1, 1).toFloatArray());
        assertMessage(() -> t.permute(0, 1), "permute", "[2, 3, 4]");
        assertMessage(() -> t.permute(0, 1, 1), "repeats axis 1");
        assertMessage(() -> t.permute(0, 1, 3), "axis 3");
        assertMessage(() -> t.transpose(0, 3), "axis 3");
    }

    @Test
    void narrowSelectAndChunkShareStorage() {
        Tensor t = iota(4, 5);
        Tensor n = t.narrow(1, 1, 3);
        assertArrayEquals(new int[] {4, 3}, n.shape());
        assertEquals(1, n.offset());
        assertFalse(n.isContiguous());
        assertArrayEquals(new float[] {1, 2, 3, 6, 7, 8, 11, 12, 13, 16, 17, 18}, n.toFloatArray());
        assertArrayEquals(new int[] {4, 0}, t.narrow(1, 5, 0).shape());
        assertMessage(() -> t.narrow(1, 3, 3), "narrow", "[4, 5]");
        assertMessage(() -> t.narrow(1, -1, 2), "narrow");
        assertMessage(() -> t.narrow(0, Integer.MAX_VALUE, 2), "narrow");

        Tensor row = t.select(0, 2);
        assertArrayEquals(new int[] {5}, row.shape());
        assertArrayEquals(new float[] {10, 11, 12, 13, 14}, row.toFloatArray());
        Tensor col = t.select(-1, 4);
        assertArrayEquals(new float[] {4, 9, 14, 19}, col.toFloatArray());
        assertMessage(() -> t.select(0, 4), "select", "index 4", "[4, 5]");

        Tensor[] parts = t.chunk(2, 0);
        assertEquals(2, parts.length);
        assertArrayEquals(new float[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, parts[1].toFloatArray());
        assertSame(t.storage(), parts[1].storage());
        Tensor[] cols = t.chunk(5, -1);
        assertArrayEquals(new float[] {3, 8, 13, 18}, cols[3].toFloatArray());
        assertMessage(() -> t.chunk(3, 0), "chunk(3)", "[4, 5]");
        assertMessage(() -> t.chunk(0, 0), "chunk(0)");
    }

    @Test
    void unsqueezeSqueezeAndExpand() {
        Tensor t = iota(2, 3);
        assertArrayEquals(new int[] {1, 2, 3}, t.unsqueeze(0).shape());
        assertArrayEquals(new int[] {2, 1, 3}, t.unsqueeze(1).shape());
        assertArrayEquals(new int[] {2, 3, 1}, t.unsqueeze(2).shape());
        assertArrayEquals(new int[] {2, 3, 1}, t.unsqueeze(-1).shape());
        assertArrayEquals(new int[] {1, 2, 3}, t.unsqueeze(-3).shape());
        for (int d = -3; d <= 2; d++) {
            assertTrue(t.unsqueeze(d).isContiguous(), "unsqueeze(" + d + ") of a contiguous tensor");
            assertArrayEquals(t.toFloatArray(), t.unsqueeze(d).toFloatArray());
        }
        assertMessage(() -> t.unsqueeze(3), "unsqueeze(3)", "[2, 3]");
        assertMessage(() -> t.unsqueeze(-4), "unsqueeze(-4)");
        assertArrayEquals(new int[] {2, 3}, t.unsqueeze(1).squeeze(1).shape());
        assertArrayEquals(new int[] {2, 3}, t.unsqueeze(2).squeeze(-1).shape());
        assertMessage(() -> t.squeeze(0), "squeeze(0)", "size 2", "[2, 3]");

        Tensor b = Tensor.of(new float[] {1, 2, 3}, 3, 1);
        Tensor e = b.expand(2, 3, 4);
        assertArrayEquals(new int[] {2, 3, 4}, e.shape());
        assertArrayEquals(new long[] {0, 1, 0}, e.strides());
        assertSame(b.storage(), e.storage());
        assertEquals(3f, e.getFloat(1, 2, 3));
        assertFalse(e.isContiguous());
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, e.select(0, 1).toFloatArray());
        assertArrayEquals(new int[] {3, 0}, b.expand(3, 0).shape());
        assertMessage(() -> b.expand(4, 4), "expand", "[3, 1]", "[4, 4]");
        assertMessage(() -> b.expand(4), "expand", "lower rank");
    }

    @Test
    void contiguousAndToCopyOnlyWhenTheLayoutOrDtypeChanges() {
        Tensor t = iota(3, 4);
        assertSame(t, t.contiguous());
        assertSame(t, t.to(DType.F32));
        Tensor tr = t.transpose(0, 1);
        Tensor c = tr.contiguous();
        assertTrue(c.isContiguous());
        assertNotSame(tr.storage(), c.storage());
        assertArrayEquals(tr.toFloatArray(), c.toFloatArray());
        // a size-1 dimension may carry any stride and still be contiguous
        Tensor odd = new Tensor(DType.F32, new int[] {3, 1, 4}, new long[] {4, 99, 1}, 0, t.storage());
        assertTrue(odd.isContiguous());
        assertSame(odd, odd.contiguous());
        Tensor h = tr.to(DType.BF16);
        assertEquals(DType.BF16, h.dtype());
        assertTrue(h.isContiguous());
        assertArrayEquals(tr.toFloatArray(), h.toFloatArray());
        assertArrayEquals(new long[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, tr.to(DType.I64).toLongArray());
    }

    @Test
    void constructorRejectsInconsistentLayouts() {
        Storage s = new FloatArrayStorage(new float[4]);
        assertMessage(() -> new Tensor(DType.F32, new int[] {2, 2}, new long[] {2}, 0, s), "rank");
        assertMessage(() -> new Tensor(DType.F32, new int[] {2, -2}, new long[] {2, 1}, 0, s), "negative");
        assertTrue(iota(2, 2).toString().contains("[2, 2]"));
        assertTrue(iota(2, 2).transpose(0, 1).toString().contains("strided"));
    }
}
