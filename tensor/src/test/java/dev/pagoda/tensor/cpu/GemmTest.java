package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(RestoresThreads.class)
class GemmTest {

    private static final int[] AWKWARD = {1, 2, 3, 7, 8, 9, 13, 17, 31, 67};

    static Stream<Arguments> kernelsAndThreads() {
        List<Arguments> out = new ArrayList<>();
        for (MicroKernel k : kernels()) {
            for (int t : new int[] {1, 2}) {
                out.add(Arguments.of(k, t));
            }
        }
        return out.stream();
    }

    /** Both kernels: the one this machine picks and the other, so CI on either ISA tests both. */
    static List<MicroKernel> kernels() {
        return List.of(MicroKernel8x32.INSTANCE, MicroKernel4x16.INSTANCE);
    }

    @ParameterizedTest
    @MethodSource("kernelsAndThreads")
    void matmulMatchesFloat64ForAwkwardSizes(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(1);
        for (int m : AWKWARD) {
            for (int n : AWKWARD) {
                for (int k : new int[] {1, 3, 8, 9, 31, 67}) {
                    Tensor a = random(rnd, m, k);
                    Tensor b = random(rnd, k, n);
                    check("matmul " + m + "x" + k + "x" + n, a, b, Gemm.matmul(kernel, a, b));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernelsAndThreads")
    void matmulSpansSeveralKAndNBlocks(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(2);
        int[][] sizes = {{257, 321, 67}, {33, 700, 650}, {9, 1000, 31}, {70, 17, 1300}, {1100, 9, 40}};
        for (int[] s : sizes) {
            Tensor a = random(rnd, s[0], s[1]);
            Tensor b = random(rnd, s[1], s[2]);
            check("matmul " + Arrays.toString(s), a, b, Gemm.matmul(kernel, a, b));
        }
    }

    @Test
    void resultsAreBitIdenticalWithOneAndTwoThreads() {
        Random rnd = new Random(3);
        Tensor a = random(rnd, 3, 129, 350);
        Tensor b = random(rnd, 350, 700);
        Tensor x = random(rnd, 200, 96);
        Tensor w = random(rnd, 70, 96);
        Tensor qa = random(rnd, 20, 40, 64);   // many batches: split over batches only
        Tensor qb = random(rnd, 20, 64, 40);
        Parallel.setThreads(1);
        float[] one = Gemm.matmul(a, b).toFloatArray();
        float[] oneLinear = Gemm.linear(x, w, null).toFloatArray();
        float[] oneBatched = Gemm.matmul(qa, qb).toFloatArray();
        Parallel.setThreads(2);
        assertArrayEquals(one, Gemm.matmul(a, b).toFloatArray());
        assertArrayEquals(oneLinear, Gemm.linear(x, w, null).toFloatArray());
        Tensor batched = Gemm.matmul(qa, qb);
        assertArrayEquals(oneBatched, batched.toFloatArray());
        check("20 batches, 2 threads", qa, qb, batched);
    }

    @Test
    void batchDimensionsBroadcast() {
        Random rnd = new Random(4);
        int[][][] cases = {
            {{2, 3, 5, 7}, {3, 7, 9}},
            {{5, 7}, {2, 7, 9}},
            {{2, 1, 5, 7}, {1, 4, 7, 9}},
            {{4, 33, 17}, {17, 40}},
            {{3, 1, 9, 8}, {8, 35}},
            {{1, 6, 4}, {3, 4, 6}},
        };
        for (int[][] c : cases) {
            Tensor a = random(rnd, c[0]);
            Tensor b = random(rnd, c[1]);
            check("matmul " + Shapes.str(c[0]) + " @ " + Shapes.str(c[1]), a, b, Gemm.matmul(a, b));
        }
    }

    @ParameterizedTest
    @MethodSource("kernelsAndThreads")
    void stridedAndTransposedViewsArePackedInPlace(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(5);
        int m = 37;
        int k = 45;
        int n = 70;
        Tensor aT = random(rnd, k, m).transpose(0, 1);                 // row stride 1
        Tensor bT = random(rnd, n, k).transpose(0, 1);                 // k stride 1 for Bᵀ
        Tensor aNarrow = random(rnd, m + 3, k + 5).narrow(0, 2, m).narrow(1, 3, k);
        Tensor aGather = random(rnd, k, m, 2).select(2, 1).transpose(0, 1); // neither stride is 1
        Tensor b = random(rnd, k, n);
        check("aᵀ", aT, b, Gemm.matmul(kernel, aT, b));
        check("bᵀ", aNarrow, bT, Gemm.matmul(kernel, aNarrow, bT));
        check("aᵀ bᵀ", aT, bT, Gemm.matmul(kernel, aT, bT));
        check("gather", aGather, b, Gemm.matmul(kernel, aGather, b));
        // a batch that cannot fold into rows: [L, B, K] viewed as [B, L, K]
        Tensor aPerm = random(rnd, 11, 3, k).permute(1, 0, 2);
        check("permuted batch", aPerm, b, Gemm.matmul(kernel, aPerm, b));
        // expanded (stride 0) batch on both sides
        Tensor aExp = random(rnd, 1, m, k).expand(4, m, k);
        Tensor bExp = random(rnd, 1, k, n).expand(4, k, n);
        check("expanded", aExp, bExp, Gemm.matmul(kernel, aExp, bExp));
    }

    @ParameterizedTest
    @MethodSource("kernelsAndThreads")
    void segmentOperandsInEveryLayout(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(9);
        int m = 19;
        int k = 41;
        int n = 45;
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Tensor a = segment(random(rnd, m, k), dt);                            // rows K-contiguous
            Tensor aT = segment(random(rnd, k, m), dt).transpose(0, 1);           // row stride 1
            Tensor aGather = segment(random(rnd, k, m, 2), dt).select(2, 0).transpose(0, 1);
            Tensor b = segment(random(rnd, k, n), dt);                            // Bᵀ row stride 1
            Tensor bT = segment(random(rnd, n, k), dt).transpose(0, 1);           // Bᵀ rows K-contiguous
            check(dt + " a b", a, b, Gemm.matmul(kernel, a, b));
            check(dt + " aᵀ bᵀ", aT, bT, Gemm.matmul(kernel, aT, bT));
            check(dt + " gather", aGather, b, Gemm.matmul(kernel, aGather, b));
        }
    }

    @ParameterizedTest
    @MethodSource("kernelsAndThreads")
    void linearWithEveryWeightStorage(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(6);
        int[][] sizes = {{1, 1, 1}, {3, 17, 9}, {77, 67, 40}, {130, 330, 70}, {8, 64, 32}, {5, 700, 40}};
        for (int[] s : sizes) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            Tensor x = random(rnd, m, k);
            Tensor heap = random(rnd, n, k);
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                Tensor w = segment(heap, dt);
                Tensor bias = rnd.nextBoolean() ? null : segment(random(rnd, n), rnd.nextBoolean() ? DType.F16 : DType.F32);
                checkLinear("linear " + dt + " " + Arrays.toString(s), x, w, bias, Gemm.linear(kernel, x, w, bias));
            }
            Tensor bias = random(rnd, n);
            checkLinear("linear heap " + Arrays.toString(s), x, heap, bias, Gemm.linear(kernel, x, heap, bias));
            checkLinear("linear heap no bias " + Arrays.toString(s), x, heap, null, Gemm.linear(kernel, x, heap, null));
        }
    }

    @Test
    void linearOnBatchedAndStridedInputs() {
        Random rnd = new Random(7);
        Tensor w = segment(random(rnd, 24, 40), DType.F16);
        Tensor bias = random(rnd, 24);
        Tensor x3 = random(rnd, 2, 77, 40);
        Tensor out = Gemm.linear(x3, w, bias);
        assertArrayEquals(new int[] {2, 77, 24}, out.shape());
        checkLinear("x[2, 77, K]", x3, w, bias, out);
        Tensor xPerm = random(rnd, 9, 2, 40).transpose(0, 1);
        checkLinear("x[L, B, K]ᵀ", xPerm, w, bias, Gemm.linear(xPerm, w, bias));
        Tensor x1 = random(rnd, 40);
        Tensor out1 = Gemm.linear(x1, w, null);
        assertArrayEquals(new int[] {24}, out1.shape());
        checkLinear("x[K]", x1, w, null, out1);
        Tensor wT = random(rnd, 40, 24).transpose(0, 1); // a transposed F32 weight: Bᵀ rows contiguous
        checkLinear("weightᵀ", x3, wT, null, Gemm.linear(x3, wT, null));
    }

    @Test
    void emptyDimensionsGiveEmptyOrBiasOnlyResults() {
        Tensor a = Tensor.zeros(3, 0);
        Tensor b = Tensor.zeros(0, 4);
        assertArrayEquals(new float[12], Gemm.matmul(a, b).toFloatArray());
        assertEquals(0, Gemm.matmul(Tensor.zeros(0, 5), Tensor.zeros(5, 4)).numel());
        Tensor bias = Tensor.of(new float[] {1, 2}, 2);
        assertArrayEquals(new float[] {1, 2, 1, 2}, Gemm.linear(Tensor.zeros(2, 0), Tensor.zeros(2, 0), bias).toFloatArray());
    }

    @Test
    void shapeErrorsNameTheOpAndShapes() {
        Tensor a = Tensor.zeros(3, 4);
        assertMessage(() -> Gemm.matmul(a, Tensor.zeros(5, 2)), "matmul", "[3, 4]", "[5, 2]");
        assertMessage(() -> Gemm.matmul(a, Tensor.zeros(4)), "matmul", "[3, 4]", "[4]");
        assertMessage(() -> Gemm.matmul(Tensor.zeros(2, 3, 4), Tensor.zeros(3, 4, 2)), "matmul", "[2, 3, 4]", "[3, 4, 2]");
        assertMessage(() -> Gemm.linear(a, Tensor.zeros(2, 5), null), "linear", "[3, 4]", "[2, 5]");
        assertMessage(() -> Gemm.linear(a, Tensor.zeros(2, 4, 1), null), "linear", "[2, 4, 1]");
        assertMessage(() -> Gemm.linear(a, Tensor.zeros(2, 4), Tensor.zeros(3)), "linear", "bias", "[3]");
        assertMessage(() -> Gemm.linear(Tensor.ofInts(new int[4], 1, 4), Tensor.zeros(2, 4), null), "linear", "x");
    }

    @Test
    void referenceCheckDetectsADroppedTerm() {
        Random rnd = new Random(8);
        Tensor a = random(rnd, 5, 300);
        Tensor b = random(rnd, 300, 6);
        float[] got = Gemm.matmul(a, b).toFloatArray();
        got[7] -= a.getFloat(1, 299) * b.getFloat(299, 1);
        Tensor wrong = Tensor.of(got, 5, 6);
        assertThrows(AssertionError.class, () -> check("dropped term", a, b, wrong));
    }

    // ---------------------------------------------------------------- references

    private static void check(String what, Tensor a, Tensor b, Tensor got) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int[] batch = Shapes.broadcast("ref", Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        assertArrayEquals(outShape, got.shape(), what + ": output shape");
        int[] aFull = Arrays.copyOf(batch, batch.length + 2);
        aFull[batch.length] = m;
        aFull[batch.length + 1] = k;
        int[] bFull = Arrays.copyOf(batch, batch.length + 2);
        bFull[batch.length] = k;
        bFull[batch.length + 1] = n;
        float[] av = a.expand(aFull).toFloatArray();
        float[] bv = b.expand(bFull).toFloatArray();
        int batches = (int) Shapes.numel(batch);
        double[] ref = new double[batches * m * n];
        double[] abs = new double[ref.length];
        for (int t = 0; t < batches; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double sa = 0;
                    for (int p = 0; p < k; p++) {
                        double v = (double) av[(t * m + i) * k + p] * bv[(t * k + p) * n + j];
                        s += v;
                        sa += Math.abs(v);
                    }
                    ref[(t * m + i) * n + j] = s;
                    abs[(t * m + i) * n + j] = sa;
                }
            }
        }
        Float32Accumulation.assertClose(what, ref, abs, got.toFloatArray(), k);
    }

    private static void checkLinear(String what, Tensor x, Tensor w, Tensor bias, Tensor got) {
        int k = w.dim(1);
        int n = w.dim(0);
        float[] xv = x.toFloatArray();
        float[] wv = w.toFloatArray();
        float[] bv = bias == null ? null : bias.toFloatArray();
        int rows = xv.length / k;
        double[] ref = new double[rows * n];
        double[] abs = new double[ref.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) {
                double s = bv == null ? 0 : bv[j];
                double sa = Math.abs(s);
                for (int p = 0; p < k; p++) {
                    double v = (double) xv[i * k + p] * wv[j * k + p];
                    s += v;
                    sa += Math.abs(v);
                }
                ref[i * n + j] = s;
                abs[i * n + j] = sa;
            }
        }
        int[] expectShape = x.shape();
        expectShape[expectShape.length - 1] = n;
        assertArrayEquals(expectShape, got.shape(), what + ": output shape");
        Float32Accumulation.assertClose(what, ref, abs, got.toFloatArray(), k);
    }

    // ---------------------------------------------------------------- fixtures

    static Tensor random(Random rnd, int... shape) {
        float[] v = new float[(int) Shapes.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    /** A copy of {@code t} in a little-endian memory segment, rounded to {@code dtype}. */
    static Tensor segment(Tensor t, DType dtype) {
        int[] shape = t.shape();
        Tensor s = Tensor.wrap(Arena.ofAuto().allocate(Math.max(1, t.numel() * dtype.byteSize()), 8), dtype, shape);
        float[] v = t.toFloatArray();
        int[] idx = new int[shape.length];
        for (float f : v) {
            s.setFloat(f, idx);
            Shapes.increment(idx, shape);
        }
        return s;
    }

    static void assertMessage(Runnable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should mention " + p);
        }
    }
}
