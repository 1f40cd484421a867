package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host fallback: operations without an OpenCL kernel download their inputs, run on the CPU
 * backend and upload the result. Conversion to a narrower dtype is one of them (and one whose CPU
 * kernel exists today); the result must be a device tensor with correctly rounded values.
 */
class OpenClHostFallbackTest {

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
    void narrowingCopyRunsOnTheHostAndReturnsADeviceTensor() {
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
    }

    @Test
    void integerCopyRunsOnTheHost() {
        Tensor ids = cl.upload(Tensor.ofLongs(new long[] {4, 8, 15, 16, 23, 42}, 2, 3));
        Tensor out = cl.copy(ids.transpose(0, 1), DType.I32);
        assertSame(cl, out.backend());
        assertEquals(DType.I32, out.dtype());
        assertArrayEquals(new long[] {4, 16, 8, 23, 15, 42}, cl.download(out).toLongArray());
    }
}
