package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NormsTest {

    private static final Backend B = Backend.cpu();
    private static final double U = 0x1p-24;

    /** The float64 group norm; gamma/beta null mean 1/0. Returns y and, per element, its error scale. */
    private static double[][] groupNormRef(float[] x, int[] shape, int groups, float[] gamma, float[] beta, double eps,
            boolean silu) {
        int n = shape[0];
        int c = shape[1];
        int spatial = x.length / (n * c);
        int len = c / groups * spatial;
        double[] y = new double[x.length];
        double[] scale = new double[x.length];
        for (int ng = 0; ng < n * groups; ng++) {
            double mean = 0;
            for (int i = 0; i < len; i++) {
                mean += x[ng * len + i];
            }
            mean /= len;
            double var = 0;
            for (int i = 0; i < len; i++) {
                double d = x[ng * len + i] - mean;
                var += d * d;
            }
            var /= len;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < len; i++) {
                int p = ng * len + i;
                int ch = (ng % groups) * (c / groups) + i / spatial;
                double g = gamma == null ? 1 : gamma[ch];
                double b = beta == null ? 0 : beta[ch];
                double t = (x[p] - mean) * rstd * g;
                double v = t + b;
                // the kernel rounds x - mean, the scale and the fma (a few ulps of |t| + |b|), and its
                // float32 statistics put the mean within about an ulp of σ: |g| in normalised units
                double s = Math.abs(t) + Math.abs(g) + Math.abs(b);
                if (silu) {
                    double sig = 1 / (1 + Math.exp(-v));
                    v = v * sig;
                    // d(v·σ(v))/dv = σ(1 + v(1-σ)), bounded by 1.1; plus the SiLU's own few ulps
                    s = s * 1.1 + Math.abs(v);
                }
                y[p] = v;
                scale[p] = s;
            }
        }
        return new double[][] {y, scale};
    }

    private static void assertClose(String what, double[][] ref, float[] y, double ulps) {
        assertEquals(ref[0].length, y.length);
        for (int i = 0; i < y.length; i++) {
            double tol = ulps * U * ref[1][i] + 1e-30;
            if (!(Math.abs(y[i] - ref[0][i]) <= tol)) {
                throw new AssertionError(what + " at " + i + ": " + y[i] + " vs " + ref[0][i] + " (tolerance " + tol + ")");
            }
        }
    }

    private static int numel(int[] s) {
        return Math.toIntExact(Shapes.numel(s));
    }

    @Test
    void groupNormMatchesFloat64OnAwkwardShapes() {
        Random rng = new Random(1);
        Object[][] cases = {
            {new int[] {1, 4, 1, 1}, 4},      // one element per group: variance 0
            {new int[] {2, 6, 5, 7}, 3},
            {new int[] {1, 32, 9, 9}, 32},
            {new int[] {3, 10, 13}, 5},        // rank 3 (1-D spatial)
            {new int[] {4, 12}, 4},            // rank 2 (no spatial)
            {new int[] {1, 8, 45, 50}, 2},     // 9000 per group: several statistics blocks
            {new int[] {2, 64, 17, 33}, 32},   // the threaded path
        };
        for (int k = 0; k < cases.length; k++) {
            int[] shape = (int[]) cases[k][0];
            int groups = (int) cases[k][1];
            // a large eps on every other case: it must sit inside the square root
            float eps = k % 2 == 0 ? 1e-5f : 0.5f;
            float[] x = Layouts.normal(rng, numel(shape), 0.3, 2);
            float[] gamma = Layouts.normal(rng, shape[1], 1, 0.5);
            float[] beta = Layouts.normal(rng, shape[1], 0, 0.5);
            for (boolean silu : new boolean[] {false, true}) {
                float[] y = B.groupNorm(Tensor.of(x.clone(), shape), groups, Tensor.of(gamma.clone(), shape[1]),
                        Tensor.of(beta.clone(), shape[1]), eps, silu).toFloatArray();
                assertClose("groupNorm " + Arrays.toString(shape) + " silu=" + silu,
                        groupNormRef(x, shape, groups, gamma, beta, eps, silu), y, 6);
            }
        }
    }

    /**
     * With several threads, statistics are taken while the output is allocated and long channel runs
     * are normalised in blocks across threads; one thread normalises group by group. Both must give
     * the same bits, and the float64 answer, on runs longer than a block, of prime lengths, on an
     * offset view and on strided and half-precision inputs (widened before the statistics).
     */
    @Test
    void groupNormIsTheSameOnOneAndTwoThreadsAtAwkwardSizes() {
        Random rng = new Random(5);
        Object[][] cases = {
            {new int[] {1, 5, 131, 127}, 5},   // runs of 16637: a full block and a 253-element tail
            {new int[] {2, 6, 97, 61}, 3},     // batch 2, prime spatial sides
            {new int[] {1, 1, 65537}, 1},      // one group, one channel, one prime run: only the run splits
            {new int[] {3, 64, 19, 23}, 32},   // many short runs per work unit
        };
        int saved = Parallel.threads();
        try {
            for (Object[] cs : cases) {
                int[] shape = (int[]) cs[0];
                int groups = (int) cs[1];
                float[] x = Layouts.normal(rng, numel(shape), 0.7, 1.5);
                float[] gamma = Layouts.normal(rng, shape[1], 1, 0.5);
                float[] beta = Layouts.normal(rng, shape[1], 0, 0.5);
                Tensor g = Tensor.of(gamma, shape[1]);
                Tensor b = Tensor.of(beta, shape[1]);
                for (boolean silu : new boolean[] {false, true}) {
                    String what = "groupNorm " + Arrays.toString(shape) + " silu=" + silu;
                    Parallel.setThreads(1);
                    float[] one = B.groupNorm(Tensor.of(x.clone(), shape), groups, g, b, 1e-5f, silu).toFloatArray();
                    assertClose(what + " 1 thread", groupNormRef(x, shape, groups, gamma, beta, 1e-5f, silu), one, 6);
                    Parallel.setThreads(2);
                    assertArrayEquals(one, B.groupNorm(Tensor.of(x.clone(), shape), groups, g, b, 1e-5f, silu)
                            .toFloatArray(), what + " 2 threads");
                    assertArrayEquals(one, B.groupNorm(Layouts.padded(x, shape), groups, g, b, 1e-5f, silu)
                            .toFloatArray(), what + " strided, 2 threads");
                    int[] wide = shape.clone();
                    wide[0] += 1;
                    float[] v = Layouts.normal(rng, numel(wide), 0, 1);
                    System.arraycopy(x, 0, v, numel(wide) - x.length, x.length);
                    Tensor view = Tensor.of(v, wide).narrow(0, 1, shape[0]);
                    assertArrayEquals(one, B.groupNorm(view, groups, g, b, 1e-5f, silu).toFloatArray(),
                            what + " offset view, 2 threads");
                    Tensor x16 = Layouts.ofDtype(DType.BF16, x, shape);
                    Parallel.setThreads(1);
                    float[] one16 = B.groupNorm(x16, groups, g, b, 1e-5f, silu).toFloatArray();
                    Parallel.setThreads(2);
                    assertArrayEquals(one16, B.groupNorm(x16, groups, g, b, 1e-5f, silu).toFloatArray(),
                            what + " bf16, 2 threads");
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void groupNormKeepsAccuracyFarFromZero() {
        // mean 1000, std 1: folding the mean into one float bias would lose ~3 decimal digits
        Random rng = new Random(2);
        int[] shape = {1, 4, 31, 33};
        float[] x = Layouts.normal(rng, numel(shape), 1000, 1);
        float[] y = B.groupNorm(Tensor.of(x.clone(), shape), 2, null, null, 1e-6f, false).toFloatArray();
        assertClose("groupNorm offset", groupNormRef(x, shape, 2, null, null, 1e-6f, false), y, 6);
    }

    @Test
    void groupNormAcceptsStridedInputAndHalfPrecisionParameters() {
        Random rng = new Random(3);
        int[] shape = {2, 6, 7, 11};
        float[] x = Layouts.normal(rng, numel(shape), 0, 1);
        float[] gamma = Layouts.normal(rng, 6, 1, 0.3);
        float[] beta = Layouts.normal(rng, 6, 0, 0.3);
        Tensor g16 = Layouts.ofDtype(DType.F16, gamma, 6);
        Tensor b16 = Layouts.ofDtype(DType.BF16, beta, 6);
        float[] expected = B.groupNorm(Tensor.of(x.clone(), shape), 3, Tensor.of(g16.toFloatArray(), 6),
                Tensor.of(b16.toFloatArray(), 6), 1e-5f, true).toFloatArray();
        assertArrayEquals(expected, B.groupNorm(Tensor.of(x.clone(), shape), 3, g16, b16, 1e-5f, true).toFloatArray());
        assertArrayEquals(expected, B.groupNorm(Layouts.transposed(x, shape), 3, g16, b16, 1e-5f, true).toFloatArray());
        assertArrayEquals(expected, B.groupNorm(Layouts.padded(x, shape), 3, g16, b16, 1e-5f, true).toFloatArray());
        Tensor x16 = Layouts.ofDtype(DType.F16, x, shape);
        assertArrayEquals(B.groupNorm(Tensor.of(x16.toFloatArray(), shape), 3, g16, b16, 1e-5f, true).toFloatArray(),
                B.groupNorm(x16, 3, g16, b16, 1e-5f, true).toFloatArray());
        // a view into a batch (offset into the storage, contiguous)
        Tensor batch = Tensor.of(Layouts.normal(rng, 3 * numel(shape) / 2, 0, 1), 3, 6, 7, 11).narrow(0, 1, 2);
        assertArrayEquals(B.groupNorm(Tensor.of(batch.toFloatArray(), shape), 3, g16, b16, 1e-5f, false).toFloatArray(),
                B.groupNorm(batch, 3, g16, b16, 1e-5f, false).toFloatArray());
    }

    @Test
    void groupNormOfAConstantGroupIsBeta() {
        float[] x = new float[2 * 4 * 3];
        Arrays.fill(x, 5f);
        float[] beta = {0.1f, 0.2f, 0.3f, 0.4f};
        float[] y = B.groupNorm(Tensor.of(x, 2, 4, 3), 2, Tensor.of(new float[] {1, 2, 3, 4}, 4), Tensor.of(beta, 4),
                1e-5f, false).toFloatArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(beta[(i / 3) % 4], y[i], 0f);
        }
    }

    @Test
    void groupNormRejectsBadArguments() {
        Tensor x = Tensor.zeros(2, 6, 4, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.groupNorm(x, 4, null, null, 1e-5f, false));
        assertTrue(e.getMessage().contains("groupNorm") && e.getMessage().contains("4 groups")
                && e.getMessage().contains("[2, 6, 4, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.groupNorm(x, 3, Tensor.zeros(5), null, 1e-5f, false));
        assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("[6]") && e.getMessage().contains("[5]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.groupNorm(x, 3, null, Tensor.zeros(6, 1), 1e-5f, false));
        assertTrue(e.getMessage().contains("beta"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> B.groupNorm(Tensor.zeros(6), 3, null, null, 1e-5f, false));
        assertThrows(IllegalArgumentException.class, () -> B.groupNorm(x, 0, null, null, 1e-5f, false));
    }

    @Test
    void momentsAreExactToFloat64RoundingOfBlockSums() {
        Random rng = new Random(4);
        for (int n : new int[] {1, 2, 7, 1023, 1024, 1025, 100_003}) {
            for (double offset : new double[] {0, 1e4}) {
                float[] x = Layouts.normal(rng, n + 3, offset, 1);
                double mean = 0;
                for (int i = 3; i < n + 3; i++) {
                    mean += x[i];
                }
                mean /= n;
                double var = 0;
                for (int i = 3; i < n + 3; i++) {
                    var += (x[i] - mean) * (x[i] - mean);
                }
                var /= n;
                double[] got = new double[2];
                Norms.moments(x, 3, n, got);
                assertEquals(mean, got[0], 1e-6 * Math.sqrt(var) + 1e-12 * Math.abs(mean), "mean, n = " + n);
                assertEquals(var, got[1], 1e-6 * var + 1e-30, "variance, n = " + n + ", offset " + offset);
            }
        }
    }

    // ---------------------------------------------------------------- layer norm

    private static double[][] layerNormRef(float[] x, int dim, float[] gamma, float[] beta, double eps) {
        double[] y = new double[x.length];
        double[] scale = new double[x.length];
        for (int r = 0; r < x.length / dim; r++) {
            double mean = 0;
            for (int j = 0; j < dim; j++) {
                mean += x[r * dim + j];
            }
            mean /= dim;
            double var = 0;
            for (int j = 0; j < dim; j++) {
                var += (x[r * dim + j] - mean) * (x[r * dim + j] - mean);
            }
            var /= dim;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < dim; j++) {
                double g = gamma == null ? 1 : gamma[j];
                double t = (x[r * dim + j] - mean) * rstd * g;
                double b = beta == null ? 0 : beta[j];
                y[r * dim + j] = t + b;
                scale[r * dim + j] = Math.abs(t) + Math.abs(g) + Math.abs(b);
            }
        }
        return new double[][] {y, scale};
    }

    @Test
    void layerNormMatchesFloat64() {
        Random rng = new Random(5);
        int[][] shapes = {{1, 1}, {3, 7}, {2, 5, 77}, {4, 1283}, {1, 3, 2048}, {37, 640}};
        for (int[] shape : shapes) {
            int dim = shape[shape.length - 1];
            float[] x = Layouts.normal(rng, numel(shape), -0.7, 3);
            float[] gamma = Layouts.normal(rng, dim, 1, 0.2);
            float[] beta = Layouts.normal(rng, dim, 0, 0.2);
            float[] y = B.layerNorm(Tensor.of(x.clone(), shape), Tensor.of(gamma.clone(), dim), Tensor.of(beta.clone(), dim),
                    1e-5f).toFloatArray();
            assertClose("layerNorm " + Arrays.toString(shape), layerNormRef(x, dim, gamma, beta, 1e-5f), y, 6);
            float[] wide = B.layerNorm(Tensor.of(x.clone(), shape), Tensor.of(gamma.clone(), dim), Tensor.of(beta.clone(), dim),
                    2f).toFloatArray();
            assertClose("layerNorm eps 2 " + Arrays.toString(shape), layerNormRef(x, dim, gamma, beta, 2f), wide, 6);
            float[] plain = B.layerNorm(Tensor.of(x.clone(), shape), null, null, 1e-6f).toFloatArray();
            assertClose("layerNorm (no affine) " + Arrays.toString(shape), layerNormRef(x, dim, null, null, 1e-6f), plain, 6);
        }
    }

    @Test
    void layerNormKeepsAccuracyFarFromZeroAndAcceptsStridedAndHalfInputs() {
        Random rng = new Random(6);
        int[] shape = {5, 301};
        float[] x = Layouts.normal(rng, numel(shape), 5000, 2);
        assertClose("layerNorm offset", layerNormRef(x, 301, null, null, 1e-5f),
                B.layerNorm(Tensor.of(x.clone(), shape), null, null, 1e-5f).toFloatArray(), 6);

        float[] gamma = Layouts.normal(rng, 301, 1, 0.2);
        Tensor g16 = Layouts.ofDtype(DType.F16, gamma, 301);
        float[] expected = B.layerNorm(Tensor.of(x.clone(), shape), Tensor.of(g16.toFloatArray(), 301), null, 1e-5f)
                .toFloatArray();
        assertArrayEquals(expected, B.layerNorm(Layouts.transposed(x, shape), g16, null, 1e-5f).toFloatArray());
        assertArrayEquals(expected, B.layerNorm(Layouts.padded(x, shape), g16, null, 1e-5f).toFloatArray());
    }

    @Test
    void layerNormRejectsMismatchedParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.layerNorm(Tensor.zeros(3, 8), Tensor.zeros(7), null, 1e-5f));
        assertTrue(e.getMessage().contains("layerNorm") && e.getMessage().contains("[8]")
                && e.getMessage().contains("[7]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> B.layerNorm(Tensor.scalar(1f), null, null, 1e-5f));
        assertThrows(IllegalArgumentException.class,
                () -> B.layerNorm(Tensor.ofLongs(new long[] {1, 2}, 1, 2), null, null, 1e-5f));
    }

    // ---------------------------------------------------------------- RMS norm

    @Test
    void rmsNormMatchesFloat64() {
        Random rng = new Random(7);
        int[][] shapes = {{1, 1}, {2, 3, 17}, {1, 4099}, {40, 64}};
        for (int[] shape : shapes) {
            int dim = shape[shape.length - 1];
            float[] x = Layouts.normal(rng, numel(shape), 0.2, 4);
            float[] gamma = Layouts.normal(rng, dim, 1, 0.3);
            Tensor g16 = Layouts.ofDtype(DType.BF16, gamma, dim);
            float[] gw = g16.toFloatArray();
            for (float eps : new float[] {1e-6f, 3f}) {
                float[] ye = B.rmsNorm(Tensor.of(x.clone(), shape), g16, eps).toFloatArray();
                for (int r = 0; r < x.length / dim; r++) {
                    double ms = 0;
                    for (int j = 0; j < dim; j++) {
                        ms += (double) x[r * dim + j] * x[r * dim + j];
                    }
                    double rr = 1 / Math.sqrt(ms / dim + eps);
                    for (int j = 0; j < dim; j++) {
                        double ref = x[r * dim + j] * rr * gw[j];
                        assertTrue(Layouts.ulps(ye[r * dim + j], ref) <= 4, "rmsNorm " + Arrays.toString(shape)
                                + " eps " + eps + " at " + (r * dim + j) + ": " + ye[r * dim + j] + " vs " + ref);
                    }
                }
            }
            float[] y = B.rmsNorm(Tensor.of(x.clone(), shape), g16, 1e-6f).toFloatArray();
            assertArrayEquals(y, B.rmsNorm(Layouts.padded(x, shape), g16, 1e-6f).toFloatArray());
            float[] plain = B.rmsNorm(Tensor.of(x.clone(), shape), null, 1e-6f).toFloatArray();
            float[] ones = new float[dim];
            Arrays.fill(ones, 1f);
            assertArrayEquals(B.rmsNorm(Tensor.of(x.clone(), shape), Tensor.of(ones, dim), 1e-6f).toFloatArray(), plain);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.rmsNorm(Tensor.zeros(2, 5), Tensor.zeros(4), 1e-6f));
        assertTrue(e.getMessage().contains("rmsNorm") && e.getMessage().contains("gamma"), e.getMessage());
    }

    @Test
    void threadCountDoesNotChangeResults() {
        Random rng = new Random(8);
        int[] shape = {2, 64, 20, 21};
        float[] x = Layouts.normal(rng, numel(shape), 0, 1);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] gn1 = B.groupNorm(Tensor.of(x.clone(), shape), 32, null, null, 1e-5f, true).toFloatArray();
            float[] ln1 = B.layerNorm(Tensor.of(x.clone(), 2 * 64 * 20, 21), null, null, 1e-5f).toFloatArray();
            Parallel.setThreads(3);
            assertArrayEquals(gn1, B.groupNorm(Tensor.of(x.clone(), shape), 32, null, null, 1e-5f, true).toFloatArray());
            assertArrayEquals(ln1, B.layerNorm(Tensor.of(x.clone(), 2 * 64 * 20, 21), null, null, 1e-5f).toFloatArray());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void normsOfEmptyTensorsAreEmpty() {
        assertArrayEquals(new int[] {0, 4, 3, 3}, B.groupNorm(Tensor.zeros(0, 4, 3, 3), 2, null, null, 1e-5f, true).shape());
        assertArrayEquals(new int[] {0, 5}, B.layerNorm(Tensor.zeros(0, 5), null, null, 1e-5f).shape());
        assertArrayEquals(new int[] {0, 5}, B.rmsNorm(Tensor.zeros(0, 5), null, 1e-5f).shape());
    }
}
