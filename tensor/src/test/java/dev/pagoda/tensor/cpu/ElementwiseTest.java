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
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;

class ElementwiseTest {

    private static final Backend B = Backend.cpu();

    private enum Op { ADD, SUB, MUL, DIV }

    private static Tensor run(Op op, Tensor a, Tensor b) {
        return switch (op) {
            case ADD -> B.add(a, b);
            case SUB -> B.sub(a, b);
            case MUL -> B.mul(a, b);
            case DIV -> B.div(a, b);
        };
    }

    private static double ref(Op op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
        };
    }

    /** Element of a row-major {@code values} array of shape {@code s} at broadcast index {@code idx}. */
    private static float at(float[] values, int[] s, int[] idx) {
        int lead = idx.length - s.length;
        int p = 0;
        for (int d = 0; d < s.length; d++) {
            p = p * s[d] + (s[d] == 1 ? 0 : idx[lead + d]);
        }
        return values[p];
    }

    /** Broadcast reference in float64; float ops are correctly rounded, so the float32 result is exact. */
    private static float[] reference(Op op, float[] a, int[] sa, float[] b, int[] sb) {
        int[] s = Shapes.broadcast("ref", sa, sb);
        float[] out = new float[Math.toIntExact(Shapes.numel(s))];
        int[] idx = new int[s.length];
        for (int i = 0; i < out.length; i++) {
            // +, -, ×, ÷ in double then rounded to float equal the float operation (53 ≥ 2·24 + 2)
            out[i] = (float) ref(op, at(a, sa, idx), at(b, sb, idx));
            Shapes.increment(idx, s);
        }
        return out;
    }

    private static final int[][][] SHAPE_PAIRS = {
        {{1}, {1}},
        {{7}, {7}},
        {{37, 13}, {37, 13}},
        {{2, 3, 17}, {17}},                 // bias over the last dim
        {{2, 5, 7, 9}, {2, 5, 1, 1}},       // per-channel scale over spatial dims
        {{5, 1, 1}, {2, 5, 6, 11}},         // the broadcast operand first
        {{3, 1, 5}, {1, 4, 1}},             // both broadcast
        {{4, 1}, {1, 9}},                   // outer product
        {{}, {3, 4}},                       // 0-d scalar
        {{3, 4}, {1}},
        {{2, 1, 33}, {2, 6, 33}},           // broadcast in the middle
        {{1, 70001}, {70001}},              // long rows: several column blocks, threads
        {{300, 129}, {300, 1}},             // many rows
    };

    @Test
    void allOpsMatchTheBroadcastReferenceExactly() {
        Random rng = new Random(1);
        for (int[][] pair : SHAPE_PAIRS) {
            int[] sa = pair[0];
            int[] sb = pair[1];
            float[] a = Layouts.normal(rng, Math.toIntExact(Shapes.numel(sa)), 0, 3);
            float[] b = Layouts.normal(rng, Math.toIntExact(Shapes.numel(sb)), 0.5, 3);
            for (Op op : Op.values()) {
                float[] expected = reference(op, a, sa, b, sb);
                Tensor out = run(op, Tensor.of(a.clone(), sa), Tensor.of(b.clone(), sb));
                assertArrayEquals(Shapes.broadcast("t", sa, sb), out.shape());
                assertTrue(out.isHeapF32());
                assertArrayEquals(expected, out.toFloatArray(), op + " " + Arrays.toString(sa) + " " + Arrays.toString(sb));
            }
        }
    }

    @Test
    void stridedAndHalfPrecisionOperandsGiveTheSameResult() {
        Random rng = new Random(2);
        int[][][] pairs = {{{3, 7, 19}, {3, 7, 19}}, {{4, 9, 5}, {9, 5}}, {{2, 6, 8, 3}, {6, 1, 1}}, {{5, 12}, {5, 1}}};
        for (int[][] pair : pairs) {
            int[] sa = pair[0];
            int[] sb = pair[1];
            float[] a = Layouts.normal(rng, Math.toIntExact(Shapes.numel(sa)), 0, 2);
            float[] b = Layouts.normal(rng, Math.toIntExact(Shapes.numel(sb)), 1, 2);
            for (Op op : Op.values()) {
                float[] expected = reference(op, a, sa, b, sb);
                assertArrayEquals(expected, run(op, Layouts.padded(a, sa), Layouts.transposed(b, sb)).toFloatArray());
                assertArrayEquals(expected, run(op, Layouts.transposed(a, sa), Layouts.padded(b, sb)).toFloatArray());
                Tensor half = Layouts.ofDtype(DType.F16, b, sb);
                float[] bh = half.toFloatArray();
                assertArrayEquals(reference(op, a, sa, bh, sb), run(op, Tensor.of(a.clone(), sa), half).toFloatArray());
                Tensor bf = Layouts.ofDtype(DType.BF16, b, sb);
                assertArrayEquals(reference(op, bf.toFloatArray(), sb, a, sa), run(op, bf, Tensor.of(a.clone(), sa)).toFloatArray());
            }
        }
    }

    @Test
    void expandedViewsBroadcastWithoutMaterialising() {
        Random rng = new Random(3);
        float[] bias = Layouts.normal(rng, 6, 0, 1);
        float[] x = Layouts.normal(rng, 4 * 6, 0, 1);
        // stride-0 views, heap F32 and off-heap F16
        Tensor expanded = Tensor.of(bias.clone(), 1, 6).expand(4, 6);
        Tensor expandedHalf = Layouts.ofDtype(DType.F16, bias, 1, 6).expand(4, 6);
        float[] expected = reference(Op.MUL, x, new int[] {4, 6}, bias, new int[] {6});
        assertArrayEquals(expected, B.mul(Tensor.of(x.clone(), 4, 6), expanded).toFloatArray());
        float[] half = Layouts.ofDtype(DType.F16, bias, 6).toFloatArray();
        assertArrayEquals(reference(Op.MUL, x, new int[] {4, 6}, half, new int[] {6}),
                B.mul(Tensor.of(x.clone(), 4, 6), expandedHalf).toFloatArray());
        // both operands broadcast views of the same scalar
        Tensor s = Tensor.scalar(2f).expand(3, 5);
        assertArrayEquals(filled(15, 4f), B.add(s, s).toFloatArray());
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void specialValuesFollowIeee() {
        float inf = Float.POSITIVE_INFINITY;
        float[] a = {1f, -1f, 0f, inf, inf, Float.NaN, 0f, -0f};
        float[] b = {0f, 0f, 0f, inf, -inf, 1f, -0f, 0f};
        Tensor ta = Tensor.of(a, 8);
        Tensor tb = Tensor.of(b, 8);
        assertArrayEquals(new float[] {inf, -inf, Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN},
                B.div(ta, tb).toFloatArray());
        assertArrayEquals(new float[] {1f, -1f, 0f, inf, Float.NaN, Float.NaN, 0f, 0f}, B.add(ta, tb).toFloatArray());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(B.mul(ta, tb).toFloatArray()[6]));
    }

    @Test
    void axpbyMatchesFloat64WithinOneRounding() {
        Random rng = new Random(4);
        int[][][] pairs = {{{1}, {1}}, {{9, 17}, {9, 17}}, {{2, 4, 3, 5}, {4, 1, 1}}, {{3, 70001}, {3, 70001}}};
        float alpha = 7.5f;
        float beta = -0.3f;
        for (int[][] pair : pairs) {
            float[] x = Layouts.normal(rng, Math.toIntExact(Shapes.numel(pair[0])), 0, 2);
            float[] y = Layouts.normal(rng, Math.toIntExact(Shapes.numel(pair[1])), 0, 2);
            float[] out = B.axpby(alpha, Tensor.of(x.clone(), pair[0]), beta, Tensor.of(y.clone(), pair[1])).toFloatArray();
            int[] s = Shapes.broadcast("t", pair[0], pair[1]);
            int[] idx = new int[s.length];
            for (int i = 0; i < out.length; i++) {
                double xv = at(x, pair[0], idx);
                double yv = at(y, pair[1], idx);
                double exact = alpha * xv + beta * yv;
                // fma(x, α, fl(β·y)): the product β·y and the fma each round once
                double tol = 0x1p-24 * (Math.abs(exact) + Math.abs(beta * yv)) + Float.MIN_NORMAL;
                assertEquals(exact, out[i], tol, "axpby at " + Arrays.toString(idx));
                Shapes.increment(idx, s);
            }
        }
        // a strided y gives the same bits
        int[] shape = {6, 10};
        float[] x = Layouts.normal(rng, 60, 0, 1);
        float[] y = Layouts.normal(rng, 60, 0, 1);
        assertArrayEquals(B.axpby(2f, Tensor.of(x.clone(), shape), 3f, Tensor.of(y.clone(), shape)).toFloatArray(),
                B.axpby(2f, Layouts.padded(x, shape), 3f, Layouts.transposed(y, shape)).toFloatArray());
    }

    @Test
    void affineIsOneFusedMultiplyAdd() {
        Random rng = new Random(5);
        for (int n : new int[] {1, 7, 8, 9, 100, 3 * 16384 + 11}) {
            float[] x = Layouts.normal(rng, n, 0, 10);
            float[] y = B.affine(Tensor.of(x.clone(), n), 0.18215f, -1.5f).toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(Math.fma(x[i], 0.18215f, -1.5f), y[i], "affine at " + i);
            }
        }
        int[] shape = {4, 9};
        float[] x = Layouts.normal(rng, 36, 0, 1);
        float[] expected = B.affine(Tensor.of(x.clone(), shape), 3f, 1f).toFloatArray();
        assertArrayEquals(expected, B.affine(Layouts.transposed(x, shape), 3f, 1f).toFloatArray());
        Tensor half = Layouts.ofDtype(DType.F16, x, shape);
        assertArrayEquals(B.affine(Tensor.of(half.toFloatArray(), shape), 3f, 1f).toFloatArray(),
                B.affine(half, 3f, 1f).toFloatArray());
    }

    @Test
    void incompatibleShapesNameTheOpAndBothShapes() {
        for (BinaryOperator<Tensor> f : java.util.List.<BinaryOperator<Tensor>>of(B::add, B::sub, B::mul, B::div)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.apply(Tensor.zeros(2, 3), Tensor.zeros(4)));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.mul(Tensor.zeros(2, 3, 5), Tensor.zeros(3, 4)));
        assertTrue(e.getMessage().startsWith("mul"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.axpby(1f, Tensor.zeros(5), 1f, Tensor.zeros(6)));
        assertTrue(e.getMessage().startsWith("axpby"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.add(Tensor.zeros(2), Tensor.ofInts(new int[] {1, 2}, 2)));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void emptyBroadcastGivesAnEmptyResult() {
        Tensor out = B.add(Tensor.zeros(0, 3), Tensor.zeros(3));
        assertArrayEquals(new int[] {0, 3}, out.shape());
        assertArrayEquals(new int[] {2, 0}, B.mul(Tensor.zeros(2, 1), Tensor.zeros(0)).shape());
    }
}
