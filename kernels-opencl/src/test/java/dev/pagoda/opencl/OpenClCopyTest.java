package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Map;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * dtype conversion on the device: narrowing rounds to nearest even, integer copies keep values,
 * and the one conversion without a kernel (float to integer) is a counted host fallback.
 */
class OpenClCopyTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(29);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    /** Round to nearest even keeping {@code bits} significant bits (normal numbers). */
    private static float roundToBits(float v, int bits) {
        if (v == 0) {
            return v;
        }
        double ulp = Math.scalb(1.0, Math.getExponent(v) - (bits - 1));
        return (float) (Math.rint(v / ulp) * ulp);
    }

    @Test
    void narrowingCopyRoundsToNearestEvenOnTheDevice() {
        cl.counters().resetOperations();
        Tensor x = random.uniform(-3f, 3f, 6, 11);
        Tensor view = cl.upload(x).transpose(0, 1);
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            Tensor out = cl.copy(view, dtype);
            assertSame(cl, out.backend(), "the fallback uploads its result");
            assertInstanceOf(ClStorage.class, out.storage());
            assertEquals(dtype, out.dtype());
            assertArrayEquals(new int[] {11, 6}, out.shape());
            float[] expected = x.transpose(0, 1).toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                // BF16 keeps 8 significant bits, F16 11 (values here are far from F16's subnormals).
                expected[i] = roundToBits(expected[i], dtype == DType.BF16 ? 8 : 11);
            }
            assertArrayEquals(expected, cl.download(out).toFloatArray(), dtype.toString());
        }
        assertEquals(Map.of(), cl.counters().fallbacks(), "narrowing copies have kernels");
    }

    @Test
    void floatToIntegerCopyIsACountedHostFallback() {
        cl.counters().resetOperations();
        Tensor x = cl.upload(Tensor.of(new float[] {1.75f, -2f, 3f}, 3));
        Tensor out = cl.copy(x, DType.I64);
        assertSame(cl, out.backend());
        assertArrayEquals(new long[] {1, -2, 3}, cl.download(out).toLongArray());
        assertEquals(Map.of("copy F32->I64", 1L), cl.counters().fallbacks());
    }

    @Test
    void integerCopyRunsOnTheDevice() {
        Tensor ids = cl.upload(Tensor.ofLongs(new long[] {4, 8, 15, 16, 23, 42}, 2, 3));
        Tensor out = cl.copy(ids.transpose(0, 1), DType.I32);
        assertSame(cl, out.backend());
        assertEquals(DType.I32, out.dtype());
        assertArrayEquals(new long[] {4, 16, 8, 23, 15, 42}, cl.download(out).toLongArray());
    }
}
