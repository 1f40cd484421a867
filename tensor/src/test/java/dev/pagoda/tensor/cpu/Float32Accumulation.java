package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The error a float32 dot product of length K may carry: a few units of float32 rounding times
 * √K, relative to {@code Σ|aᵢ·bᵢ|} (the size of the terms, not of a result that may cancel to
 * zero). A dropped or doubled term is larger than this by orders of magnitude.
 */
final class Float32Accumulation {

    private Float32Accumulation() {
    }

    static double bound(double absSum, int k) {
        return 1e-6 * Math.sqrt(k + 1.0) * absSum + 1e-30;
    }

    /** Fails naming the first element whose error exceeds {@link #bound}. */
    static void assertClose(String what, double[] expected, double[] absSum, float[] actual, int k) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= bound(absSum[i], k))) {
                fail(String.format("%s: element %d is %s, float64 reference %s (error %.3g > bound %.3g, K=%d)",
                        what, i, actual[i], expected[i], err, bound(absSum[i], k), k));
            }
        }
    }
}
