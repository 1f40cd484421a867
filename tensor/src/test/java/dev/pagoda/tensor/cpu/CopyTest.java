package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CopyTest {

    private static short half(Tensor t, int i) {
        return ((SegmentStorage) t.storage()).segment().get(SegmentStorage.U16, 2L * (t.offset() + i));
    }

    @Test
    void stridedF32ViewsBecomeContiguousRowMajorCopies() {
        Random rng = new Random(1);
        int[][] shapes = {{7}, {3, 5}, {2, 3, 17}, {300, 301}};
        for (int[] s : shapes) {
            int n = 1;
            for (int d : s) {
                n *= d;
            }
            float[] v = Layouts.normal(rng, n, 0, 1);
            Tensor padded = Layouts.padded(v, s);
            Tensor c = Copy.copy(padded, DType.F32);
            assertTrue(c.isHeapF32());
            assertArrayEquals(v, c.toFloatArray());
            if (s.length >= 2) {
                assertArrayEquals(v, Copy.copy(Layouts.transposed(v, s), DType.F32).toFloatArray());
            }
        }
        // permuted 4-d view, broadcast (stride 0) view, 0-d tensor
        Tensor x = Tensor.of(Layouts.normal(rng, 2 * 3 * 4 * 5, 0, 1), 2, 3, 4, 5);
        Tensor p = x.permute(3, 1, 0, 2);
        float[] expected = new float[120];
        int k = 0;
        for (int a = 0; a < 5; a++) {
            for (int b = 0; b < 3; b++) {
                for (int c = 0; c < 2; c++) {
                    for (int d = 0; d < 4; d++) {
                        expected[k++] = x.getFloat(c, b, d, a);
                    }
                }
            }
        }
        assertArrayEquals(expected, Copy.copy(p, DType.F32).toFloatArray());
        Tensor e = Tensor.of(new float[] {1, 2, 3}, 3, 1).expand(3, 4);
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, Copy.copy(e, DType.F32).toFloatArray());
        assertEquals(4.5f, Copy.copy(Tensor.scalar(4.5f), DType.F32).item());
        assertEquals(0, Copy.copy(Tensor.zeros(0, 3), DType.F16).numel());
    }

    @Test
    void narrowingToF16RoundsToNearestEven() {
        float one = 1f;
        float ulp16 = 0x1p-10f;
        float[] v = {
            one + ulp16 / 2,             // tie: stays at 1 (even)
            one + 3 * ulp16 / 2,         // tie: rounds up to 1 + 2 ulp (even)
            one + ulp16 / 2 + 0x1p-20f,  // above the tie: up
            65504f, 65520f, 1e6f, -1e6f, // max half, first value that overflows, far beyond
            0x1p-24f, 0x1p-25f, 0x1.8p-25f,   // smallest subnormal, its half (tie to 0), above the tie
            Float.NaN, -0f,
        };
        Tensor h = Copy.copy(Tensor.of(v.clone(), v.length), DType.F16);
        assertEquals(DType.F16, h.dtype());
        float[] back = h.toFloatArray();
        assertEquals(1f, back[0]);
        assertEquals(one + 2 * ulp16, back[1]);
        assertEquals(one + ulp16, back[2]);
        assertEquals(65504f, back[3]);
        assertEquals(Float.POSITIVE_INFINITY, back[4]);
        assertEquals(Float.POSITIVE_INFINITY, back[5]);
        assertEquals(Float.NEGATIVE_INFINITY, back[6]);
        assertEquals(0x1p-24f, back[7]);
        assertEquals(0f, back[8]);
        assertEquals(0x1p-24f, back[9]);
        assertTrue(Float.isNaN(back[10]));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back[11]));
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToFloat16(v[i]), half(h, i), "bits of element " + i);
        }
    }

    @Test
    void narrowingToBf16RoundsToNearestEvenAndKeepsNaN() {
        float[] v = {
            Float.intBitsToFloat(0x3F808000),  // tie, lower half even: stays 0x3F80
            Float.intBitsToFloat(0x3F818000),  // tie, lower half odd: rounds up to 0x3F82
            Float.intBitsToFloat(0x3F808001),  // above the tie
            Float.intBitsToFloat(0x7F7FFFFF),  // max float rounds up to infinity
            Float.NaN, Float.intBitsToFloat(0x7F800001),  // a NaN whose payload sits in the low half
            -2.5f,
        };
        Tensor b = Copy.copy(Tensor.of(v.clone(), v.length), DType.BF16);
        assertEquals(DType.BF16, b.dtype());
        assertEquals((short) 0x3F80, half(b, 0));
        assertEquals((short) 0x3F82, half(b, 1));
        assertEquals((short) 0x3F81, half(b, 2));
        assertEquals((short) 0x7F80, half(b, 3));
        float[] back = b.toFloatArray();
        assertTrue(Float.isNaN(back[4]));
        assertTrue(Float.isNaN(back[5]), "a NaN must not turn into infinity");
        assertEquals(-2.5f, back[6]);
    }

    @Test
    void widensHalfPrecisionSegmentsIncludingStridedViews() {
        Random rng = new Random(2);
        float[] v = Layouts.normal(rng, 6 * 70, 0, 3);
        for (DType dt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
            Tensor seg = Layouts.ofDtype(dt, v, 6, 70);
            float[] rounded = seg.toFloatArray();
            Tensor wide = Copy.copy(seg, DType.F32);
            assertTrue(wide.storage() instanceof FloatArrayStorage);
            assertArrayEquals(rounded, wide.toFloatArray(), dt.name());
            // a transposed segment view takes the strided loop
            Tensor t = seg.transpose(0, 1);
            float[] expected = new float[420];
            for (int i = 0; i < 70; i++) {
                for (int j = 0; j < 6; j++) {
                    expected[i * 6 + j] = rounded[j * 70 + i];
                }
            }
            assertArrayEquals(expected, Copy.copy(t, DType.F32).toFloatArray(), dt.name() + " transposed");
            // F16 <-> BF16 through float
            Tensor other = Copy.copy(seg, dt == DType.F16 ? DType.BF16 : DType.F16);
            for (int i = 0; i < 420; i++) {
                float want = dt == DType.F16 ? DType.bf16ToFloat(DType.floatToBf16(rounded[i]))
                        : Float.float16ToFloat(Float.floatToFloat16(rounded[i]));
                assertEquals(want, other.toFloatArray()[i]);
            }
        }
    }

    @Test
    void integerConversionsFollowTorch() {
        long big = (1L << 40) + 3;
        Tensor l = Tensor.ofLongs(new long[] {0, -7, big, Long.MAX_VALUE, (1L << 24) + 1}, 5);
        // I64 -> I32 wraps (two's complement truncation)
        Tensor i = Copy.copy(l, DType.I32);
        assertEquals(DType.I32, i.dtype());
        assertArrayEquals(new long[] {0, -7, 3, -1, (1L << 24) + 1}, i.toLongArray());
        // I64 -> F32 rounds to nearest; 2^24 + 1 is not representable
        float[] f = Copy.copy(l, DType.F32).toFloatArray();
        assertEquals((float) big, f[2]);
        assertEquals(16777216f, f[4]);
        // F32 -> I64 truncates towards zero
        Tensor fl = Tensor.of(new float[] {2.9f, -2.9f, 1e10f, -0.5f}, 4);
        assertArrayEquals(new long[] {2, -2, 10_000_000_000L, 0}, Copy.copy(fl, DType.I64).toLongArray());
        assertArrayEquals(new long[] {2, 2, -2, -2}, Copy.copy(fl.narrow(0, 0, 2).unsqueeze(1).expand(2, 2), DType.I32)
                .toLongArray());
        // I32 -> I64 keeps values, strided
        Tensor i32 = Tensor.ofInts(new int[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
        assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, Copy.copy(i32, DType.I64).toLongArray());
        // BOOL
        Tensor bools = Copy.copy(Tensor.of(new float[] {0f, 2f, -0f, Float.NaN}, 4), DType.BOOL);
        assertArrayEquals(new long[] {0, 1, 0, 1}, bools.toLongArray());
        assertArrayEquals(new float[] {0f, 1f, 0f, 1f}, Copy.copy(bools, DType.F32).toFloatArray());
    }

    @Test
    void contiguousAndToCopyOnlyWhenNeeded() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertSame(x, x.contiguous());
        assertSame(x, x.to(DType.F32));
        Tensor t = x.transpose(0, 1);
        Tensor c = t.contiguous();
        assertNotSame(t, c);
        assertTrue(c.isContiguous());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, c.toFloatArray());
        Tensor h = x.to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertSame(h, h.to(DType.F16));
        assertArrayEquals(x.toFloatArray(), h.to(DType.F32).toFloatArray());
    }
}
