package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/** Comparison of a kernel's float32 result with a float64 reference under a per-element bound. */
final class Closeness {

    /** Unit roundoff of float32. */
    static final double U = 0x1p-24;

    private Closeness() {
    }

    /**
     * Asserts {@code |actual[i] - expected[i]| <= bound[i]} for every element, after checking that
     * {@code actual} is an F32 host tensor of the expected shape.
     */
    static void assertWithin(String what, int[] expectedShape, double[] expected, double[] bound, Tensor actual) {
        assertArrayEquals(expectedShape, actual.shape(), () -> what + ": shape " + Shapes.str(actual.shape()));
        if (actual.dtype() != DType.F32) {
            fail(what + ": expected F32, got " + actual);
        }
        float[] got = actual.toFloatArray();
        for (int i = 0; i < got.length; i++) {
            double err = Math.abs(got[i] - expected[i]);
            if (!(err <= bound[i])) {
                fail(String.format("%s: element %d of %s is %s, expected %s (error %.3g > bound %.3g)", what, i,
                        Shapes.str(expectedShape), got[i], expected[i], err, bound[i]));
            }
        }
    }
}
