package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SoftmaxTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** Exact softmax of each row of {@code x} (row-major, rows of n) in float64. */
    private static double[] reference(float[] x, int n) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, x[r * n + j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += Math.exp(x[r * n + j] - max);
            }
            for (int j = 0; j < n; j++) {
                out[r * n + j] = Math.exp(x[r * n + j] - max) / sum;
            }
        }
        return out;
    }

    /**
     * Float32 bound per element of rows of n: the argument x - max is rounded to float (relative error
     * of exp = the argument's absolute error, |x - max|·2^-24), exp itself is within 1 ulp, the row sum
     * takes ~n/8 sequential adds per lane plus the lane reduction, then one multiply by 1/sum. An
     * absolute floor covers subnormal results.
     */
    private static void assertClose(float[] x, double[] ref, float[] got, int n) {
        double u = 0x1p-24;
        for (int r = 0; r < ref.length / n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, x[r * n + j]);
            }
            for (int j = 0; j < n; j++) {
                int i = r * n + j;
                double arg = x[i] == Float.NEGATIVE_INFINITY ? 0 : Math.abs(x[i] - max);
                double rel = (arg + 4 + n / 8 + 8) * u;
                double err = Math.abs(got[i] - ref[i]);
                assertTrue(err <= rel * ref[i] + 1e-44, "element " + i + ": got " + got[i] + ", expected " + ref[i]
                        + " (rows of " + n + ")");
            }
        }
    }

    private static float[] random(Random rnd, int count, double sigma) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 77, 129, 300})
    void matchesFloat64ReferenceForAnyRowLength(int n) {
        Random rnd = new Random(n);
        for (int rows : new int[] {1, 5}) {
            for (double sigma : new double[] {0.1, 3, 30}) {
                float[] x = random(rnd, rows * n, sigma);
                float[] got = Softmax.softmax(Tensor.of(x.clone(), rows, n)).toFloatArray();
                assertClose(x, reference(x, n), got, n);
            }
        }
    }

    @Test
    void worksOnAnyRankAlongTheLastDimension() {
        Random rnd = new Random(3);
        float[] x = random(rnd, 2 * 3 * 5 * 13, 2);
        Tensor t = Tensor.of(x.clone(), 2, 3, 5, 13);
        float[] got = Softmax.softmax(t).toFloatArray();
        assertClose(x, reference(x, 13), got, 13);
        assertArrayEquals(new int[] {2, 3, 5, 13}, Softmax.softmax(t).shape());
        float[] v = random(rnd, 11, 1);
        assertClose(v, reference(v, 11), Softmax.softmax(Tensor.of(v.clone(), 11)).toFloatArray(), 11);
    }

    @Test
    void readsStridedViews() {
        Random rnd = new Random(4);
        float[] x = random(rnd, 6 * 21, 2);
        Tensor base = Tensor.of(x, 6, 21);
        // transpose: softmax along what were the columns
        Tensor tr = base.transpose(0, 1);
        float[] dense = tr.contiguous().toFloatArray();
        assertClose(dense, reference(dense, 6), Softmax.softmax(tr).toFloatArray(), 6);
        // narrow along the last dimension: rows with a stride larger than their length
        Tensor nar = base.narrow(1, 3, 11);
        float[] nd = nar.contiguous().toFloatArray();
        assertClose(nd, reference(nd, 11), Softmax.softmax(nar).toFloatArray(), 11);
        // an offset view of contiguous rows
        Tensor sel = Tensor.of(x, 3, 2, 21).select(0, 1);
        float[] sd = sel.contiguous().toFloatArray();
        assertClose(sd, reference(sd, 21), Softmax.softmax(sel).toFloatArray(), 21);
        // a half-precision input is widened first
        Tensor half = base.to(DType.F16);
        float[] hd = half.toFloatArray();
        assertClose(hd, reference(hd, 21), Softmax.softmax(half).toFloatArray(), 21);
        // the input is not modified
        assertArrayEquals(x.clone(), base.toFloatArray());
    }

    @Test
    void isStableForLargeValues() {
        float[] x = {1e30f, 1e30f, 0f, -1e30f, 88f, 100f, 200f, 1000f};
        float[] got = Softmax.softmax(Tensor.of(x.clone(), 2, 4)).toFloatArray();
        assertArrayEquals(new float[] {0.5f, 0.5f, 0f, 0f, 0f, 0f, 0f, 1f}, got);
        float[] y = {1000f, 999f};
        float[] g2 = Softmax.softmax(Tensor.of(y, 2)).toFloatArray();
        assertEquals(1 / (1 + Math.exp(-1)), g2[0], 1e-7);
    }

    @Test
    void rowsOfLengthOneAreOne() {
        float[] x = {-5f, 0f, 7e20f, NEG_INF};
        float[] got = Softmax.softmax(Tensor.of(x, 4, 1)).toFloatArray();
        // the -inf row is a fully masked row: zeros, see rowOfOnlyNegativeInfinityGivesZeros
        assertArrayEquals(new float[] {1f, 1f, 1f, 0f}, got);
        assertEquals(1f, Softmax.softmax(Tensor.scalar(3f)).item());
    }

    @Test
    void negativeInfinityEntriesGetZeroProbability() {
        for (int n : new int[] {3, 8, 13, 40}) {
            Random rnd = new Random(n);
            float[] x = random(rnd, 2 * n, 1);
            for (int j = 0; j < n; j += 2) {
                x[j] = NEG_INF;
                x[n + n - 1 - j] = NEG_INF;
            }
            float[] got = Softmax.softmax(Tensor.of(x.clone(), 2, n)).toFloatArray();
            double[] ref = reference(x, n);
            assertClose(x, ref, got, n);
            for (int j = 0; j < n; j += 2) {
                assertEquals(0f, got[j]);
            }
        }
    }

    /** torch gives NaN here; Pagoda gives zeros (documented on Softmax) so that NaN never spreads. */
    @Test
    void rowOfOnlyNegativeInfinityGivesZeros() {
        for (int n : new int[] {1, 5, 8, 19}) {
            float[] x = new float[3 * n];
            java.util.Arrays.fill(x, NEG_INF);
            for (int j = 0; j < n; j++) {
                x[j] = j;
                x[2 * n + j] = -j;
            }
            float[] got = Softmax.softmax(Tensor.of(x.clone(), 3, n)).toFloatArray();
            for (int j = 0; j < n; j++) {
                assertEquals(0f, got[n + j], "masked row, n = " + n);
            }
            float[] first = java.util.Arrays.copyOf(x, n);
            assertClose(first, reference(first, n), java.util.Arrays.copyOf(got, n), n);
        }
    }

    @Test
    void nanOrPositiveInfinityMakesItsRowNaNAsInTorch() {
        float[] x = {1f, Float.NaN, 2f, 1f, 2f, 3f, Float.POSITIVE_INFINITY, 0f, 0f};
        float[] got = Softmax.softmax(Tensor.of(x, 3, 3)).toFloatArray();
        for (int j = 0; j < 3; j++) {
            assertTrue(Float.isNaN(got[j]));
            assertTrue(Float.isNaN(got[6 + j]));
        }
        assertClose(new float[] {1f, 2f, 3f}, reference(new float[] {1f, 2f, 3f}, 3), new float[] {got[3], got[4], got[5]}, 3);
    }

    @Test
    void emptyTensorsAndBadInput() {
        assertArrayEquals(new int[] {0, 5}, Softmax.softmax(Tensor.zeros(0, 5)).shape());
        assertArrayEquals(new int[] {4, 0}, Softmax.softmax(Tensor.zeros(4, 0)).shape());
        var e = assertThrows(IllegalArgumentException.class,
                () -> Softmax.softmax(Tensor.ofInts(new int[] {1, 2}, 2)));
        assertTrue(e.getMessage().contains("softmax"), e.getMessage());
    }

    @Test
    void largeInputRunsInParallelChunks() {
        Random rnd = new Random(9);
        int rows = 700;
        int n = 77;
        float[] x = random(rnd, rows * n, 4);
        assertClose(x, reference(x, n), Softmax.softmax(Tensor.of(x.clone(), rows, n)).toFloatArray(), n);
    }
}
