package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ActivationsTest {

    private static final Backend B = Backend.cpu();
    private static final double U = 0x1p-24;

    /** Sizes around 8- and 16-lane vectors, primes, and past the two-block threading threshold. */
    private static final int[] SIZES = {1, 7, 8, 9, 15, 16, 17, 31, 257, 2 * 8192 * 2 + 5};

    /** 0.5·x·(1 + erf(x/√2)), written with erfc so that the negative tail keeps its digits. */
    private static double geluRef(double x) {
        return 0.5 * x * Erf.erfc(-x / Math.sqrt(2));
    }

    /** Below this the kernel's erfc uses R(4) for R(|x|/√2): the value stays within a factor 2.3. */
    private static final double GELU_FIT_END = -4 * Math.sqrt(2);

    /** Tolerance in ulps for the exact GELU; +inf marks the tail checked by {@link #checkGeluTail}. */
    private static double geluTol(double x) {
        // the argument x/√2 carries one rounding, and exp(-x²/2) the rounding of x²: both are
        // amplified by about x² relative in the negative tail
        return x < GELU_FIT_END ? Double.POSITIVE_INFINITY : 6 + (x < 0 ? 2 * x * x : 0);
    }

    private static void checkGeluTail(float x, float y, double ref) {
        if (x < GELU_FIT_END && ref != 0 && Math.abs(ref) > 1e-37) {
            double ratio = y / ref;
            assertTrue(ratio > 1 / 2.4 && ratio < 2.4 && Math.abs(y - ref) < 1e-9,
                    "gelu(" + x + ") = " + y + " vs " + ref);
        }
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    private static double tanhArg(double x) {
        return Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
    }

    /** 0.5·x·(1 + tanh(k)) = x·σ(2k): the same function, without the cancellation in double. */
    private static double geluTanhRef(double x) {
        return x * sigmoid(2 * tanhArg(x));
    }

    private static double quickRef(double x) {
        // torch: x * sigmoid(1.702 * x) with the Python scalar rounded to float32
        return x * sigmoid((double) 1.702f * x);
    }

    private static float[] inputs(Random rng, int n) {
        float[] x = Layouts.normal(rng, n, 0, 3);
        if (n > 20) {
            float[] special = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 4f, -4f, 9f, -9f, 1e-20f, -1e-20f};
            System.arraycopy(special, 0, x, 0, special.length);
        }
        return x;
    }

    /**
     * Checks every element against a float64 reference; {@code tolUlps} gives the allowed error in
     * float32 ulps of the reference for each input (it grows where an argument's rounding is amplified).
     */
    private static void check(String name, float[] x, float[] y, DoubleUnaryOperator ref, DoubleUnaryOperator tolUlps) {
        assertEquals(x.length, y.length);
        for (int i = 0; i < x.length; i++) {
            double r = ref.applyAsDouble(x[i]);
            double e = Layouts.ulps(y[i], r);
            double tol = tolUlps.applyAsDouble(x[i]);
            // values below 1e-30 are checked absolutely: the reference itself underflows differently
            if (!(e <= tol || Math.abs(y[i] - r) < 1e-30)) {
                throw new AssertionError(name + "(" + x[i] + ") = " + y[i] + ", expected " + r + " (" + e
                        + " ulp > " + tol + ")");
            }
        }
    }

    @Test
    void geluExactMatchesFloat64Reference() {
        Random rng = new Random(1);
        for (int n : SIZES) {
            float[] x = inputs(rng, n);
            float[] y = B.gelu(Layouts.contiguous(x, n), false).toFloatArray();
            // 1+erf keeps relative accuracy; the argument x/√2 carries one rounding, amplified by
            // |x·φ'/φ|-like growth in the negative tail (x² ulps at most)
            check("gelu", x, y, ActivationsTest::geluRef, ActivationsTest::geluTol);
            for (int i = 0; i < n; i++) {
                checkGeluTail(x[i], y[i], geluRef(x[i]));
            }
        }
    }

    @Test
    void geluExactAwayFromTheTailIsWithinFewUlps() {
        float[] x = new float[20001];
        for (int i = 0; i < x.length; i++) {
            x[i] = -1.5f + 11.5f * i / (x.length - 1);
        }
        float[] y = B.gelu(Tensor.of(x.clone(), x.length), false).toFloatArray();
        check("gelu", x, y, ActivationsTest::geluRef, v -> 6);
    }

    @Test
    void geluTanhMatchesFloat64Reference() {
        Random rng = new Random(2);
        for (int n : SIZES) {
            float[] x = inputs(rng, n);
            float[] y = B.gelu(Layouts.contiguous(x, n), true).toFloatArray();
            // the rounding of k = √(2/π)(x + 0.044715x³) moves σ(2k) by |2k|·(1-σ) relative
            check("geluTanh", x, y, ActivationsTest::geluTanhRef, v -> 6 + 4 * Math.abs(2 * tanhArg(v)));
        }
    }

    @Test
    void siluMatchesFloat64Reference() {
        Random rng = new Random(3);
        for (int n : SIZES) {
            float[] x = inputs(rng, n);
            float[] y = B.silu(Layouts.contiguous(x, n)).toFloatArray();
            check("silu", x, y, v -> v * sigmoid(v), v -> 6);
        }
    }

    @Test
    void quickGeluMatchesFloat64Reference() {
        Random rng = new Random(4);
        for (int n : SIZES) {
            float[] x = inputs(rng, n);
            float[] y = B.quickGelu(Layouts.contiguous(x, n)).toFloatArray();
            check("quickGelu", x, y, ActivationsTest::quickRef, v -> 6 + 2 * Math.abs(1.702 * v));
        }
    }

    @Test
    void expMatchesFloat64ReferenceAndSaturates() {
        Random rng = new Random(5);
        for (int n : SIZES) {
            float[] x = Layouts.uniform(rng, n, -87, 88);
            float[] y = B.exp(Layouts.contiguous(x, n)).toFloatArray();
            check("exp", x, y, Math::exp, v -> 3);
        }
        float[] edge = {-100f, Float.NEGATIVE_INFINITY, 89f, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f};
        float[] y = B.exp(Tensor.of(edge, edge.length)).toFloatArray();
        // exp(-100) = 3.8e-44 is a float32 subnormal, which exp keeps
        assertArrayEquals(new float[] {(float) Math.exp(-100), 0f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 1f, 1f}, y);
    }

    @Test
    void activationsAtZeroInfinityAndNaN() {
        float[] x = {0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e30f, -1e30f, -100f};
        for (boolean tanh : new boolean[] {false, true}) {
            float[] y = B.gelu(Tensor.of(x.clone(), x.length), tanh).toFloatArray();
            assertEquals(0f, y[0]);
            assertEquals(Float.POSITIVE_INFINITY, y[1]);
            // the limit of x·Φ(x); torch gives NaN (-inf·0)
            assertEquals(-0f, y[2]);
            assertTrue(Float.isNaN(y[3]));
            assertEquals(1e30f, y[4]);
            assertEquals(-0f, y[5]);
            assertEquals(-0f, y[6]);
        }
        for (Function<Tensor, Tensor> f : java.util.List.<Function<Tensor, Tensor>>of(B::silu, B::quickGelu)) {
            float[] y = f.apply(Tensor.of(x.clone(), x.length)).toFloatArray();
            assertEquals(0f, y[0]);
            assertEquals(Float.POSITIVE_INFINITY, y[1]);
            assertEquals(-0f, y[2]);
            assertTrue(Float.isNaN(y[3]));
            assertEquals(1e30f, y[4]);
            assertEquals(-0f, y[5]);
        }
    }

    @Test
    void clampFollowsTorch() {
        float[] x = {-2f, -1f, 0f, 0.5f, 1f, 3f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        float[] y = B.clamp(Tensor.of(x.clone(), x.length), -1f, 1f).toFloatArray();
        assertArrayEquals(new float[] {-1f, -1f, 0f, 0.5f, 1f, 1f, Float.NaN, -1f, 1f}, y);
        // one-sided with infinite bounds
        float[] lower = B.clamp(Tensor.of(x.clone(), x.length), 0f, Float.POSITIVE_INFINITY).toFloatArray();
        assertArrayEquals(new float[] {0f, 0f, 0f, 0.5f, 1f, 3f, Float.NaN, 0f, Float.POSITIVE_INFINITY}, lower);
        // min > max: torch.clamp gives max everywhere (except NaN)
        float[] crossed = B.clamp(Tensor.of(x.clone(), x.length), 2f, 1f).toFloatArray();
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f, 1f, 1f, Float.NaN, 1f, 1f}, crossed);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.clamp(Tensor.of(x.clone(), x.length), Float.NaN, 1f));
        assertTrue(e.getMessage().contains("clamp"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gelu", "geluTanh", "silu", "quickGelu", "exp", "clamp"})
    void stridedAndHalfInputsGiveTheSameResultAsContiguous(String op) {
        Random rng = new Random(6);
        int[] shape = {3, 5, 19};
        float[] x = Layouts.normal(rng, 3 * 5 * 19, 0, 2);
        Function<Tensor, Tensor> f = switch (op) {
            case "gelu" -> t -> B.gelu(t, false);
            case "geluTanh" -> t -> B.gelu(t, true);
            case "silu" -> B::silu;
            case "quickGelu" -> B::quickGelu;
            case "exp" -> B::exp;
            default -> t -> B.clamp(t, -0.5f, 0.7f);
        };
        float[] expected = f.apply(Layouts.contiguous(x, shape)).toFloatArray();
        Tensor padded = Layouts.padded(x, shape);
        Tensor transposed = Layouts.transposed(x, shape);
        assertTrue(!padded.isContiguous() && !transposed.isContiguous());
        assertArrayEquals(expected, f.apply(padded).toFloatArray());
        assertArrayEquals(expected, f.apply(transposed).toFloatArray());
        Tensor out = f.apply(transposed);
        assertArrayEquals(shape, out.shape());
        assertTrue(out.isHeapF32());

        Tensor half = Layouts.ofDtype(DType.F16, x, shape);
        float[] widened = half.toFloatArray();
        assertArrayEquals(f.apply(Layouts.contiguous(widened, shape)).toFloatArray(), f.apply(half).toFloatArray());
        Tensor bf = Layouts.ofDtype(DType.BF16, x, shape);
        assertArrayEquals(f.apply(Layouts.contiguous(bf.toFloatArray(), shape)).toFloatArray(),
                f.apply(bf).toFloatArray());
    }

    @Test
    void gegluMultipliesTheFirstHalfByGeluOfTheSecond() {
        Random rng = new Random(7);
        int[][] shapes = {{1, 2}, {3, 14}, {2, 5, 2 * 37}, {2, 4, 2 * 1283}, {9, 2 * 4000}};
        for (int[] shape : shapes) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] x = Layouts.normal(rng, n, 0, 2);
            int f = shape[shape.length - 1] / 2;
            float[] y = B.geglu(Layouts.contiguous(x, shape)).toFloatArray();
            for (int i = 0; i < y.length; i++) {
                int row = i / f;
                int j = i % f;
                double h = x[row * 2 * f + j];
                double g = x[row * 2 * f + f + j];
                double ref = h * geluRef(g);
                double tol = 1 + geluTol(g);
                double e = Layouts.ulps(y[i], ref);
                assertTrue(e <= tol || Math.abs(y[i] - ref) < Math.abs(h) * 1e-9,
                        "geglu " + java.util.Arrays.toString(shape) + " at " + i + ": " + y[i] + " vs " + ref);
            }
            int[] expectShape = shape.clone();
            expectShape[shape.length - 1] = f;
            assertArrayEquals(expectShape, B.geglu(Layouts.contiguous(x, shape)).shape());
            // a strided view and an F16 copy go through the same arithmetic
            assertArrayEquals(y, B.geglu(Layouts.padded(x, shape)).toFloatArray());
            Tensor half = Layouts.ofDtype(DType.F16, x, shape);
            assertArrayEquals(B.geglu(Layouts.contiguous(half.toFloatArray(), shape)).toFloatArray(),
                    B.geglu(half).toFloatArray());
        }
    }

    @Test
    void gegluRejectsAnOddLastDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.geglu(Tensor.zeros(2, 7)));
        assertTrue(e.getMessage().contains("geglu") && e.getMessage().contains("[2, 7]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> B.geglu(Tensor.scalar(1f)));
    }

    @Test
    void integerInputsAreRejectedWithTheOpName() {
        Tensor ids = Tensor.ofLongs(new long[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> B.silu(ids));
        assertTrue(e.getMessage().contains("silu") && e.getMessage().contains("I64"), e.getMessage());
    }

    @Test
    void emptyAndScalarTensors() {
        assertArrayEquals(new int[] {0, 3}, B.gelu(Tensor.zeros(0, 3), false).shape());
        assertArrayEquals(new int[] {2, 0}, B.geglu(Tensor.zeros(2, 0)).shape());
        Tensor s = B.silu(Tensor.scalar(2f));
        assertEquals(0, s.rank());
        assertEquals(2 * sigmoid(2), s.item(), 1e-6);
    }

    @Test
    void threadCountDoesNotChangeResults() {
        float[] x = Layouts.normal(new Random(8), 100_003, 0, 3);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] one = B.gelu(Tensor.of(x.clone(), x.length), false).toFloatArray();
            Parallel.setThreads(3);
            float[] three = B.gelu(Tensor.of(x.clone(), x.length), false).toFloatArray();
            assertArrayEquals(one, three);
        } finally {
            Parallel.setThreads(before);
        }
    }
}
