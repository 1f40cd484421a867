package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Binary arithmetic with numpy broadcasting, and the scalar affine map. Inputs may be strided or
 * broadcast views; the output is a new contiguous F32 tensor.
 *
 * <p>The operand layouts are first reduced to as few dimensions as possible: size-1 dimensions are
 * dropped and neighbours merged wherever both operands step through them as one run. The innermost
 * merged dimension then decides the loop: both operands contiguous (same shapes), one of them
 * constant along it (a {@code [N, C, 1, 1]} scale over {@code [N, C, H, W]}), or a general strided
 * walk. A bias {@code [C]} over {@code [N, T, C]} merges to rows of C against the same row of C.
 */
final class Elementwise {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();

    /** Columns per work unit along a long innermost dimension, and the least work for a second thread. */
    private static final int BLOCK = 16384;
    private static final int MIN_PARALLEL = 32768;

    private static final int ADD = 0;
    private static final int SUB = 1;
    private static final int MUL = 2;
    private static final int DIV = 3;
    private static final int AXPBY = 4;

    private Elementwise() {
    }

    static Tensor add(Tensor a, Tensor b) {
        return binary(ADD, "add", a, b, 1f, 1f);
    }

    static Tensor sub(Tensor a, Tensor b) {
        return binary(SUB, "sub", a, b, 1f, 1f);
    }

    static Tensor mul(Tensor a, Tensor b) {
        return binary(MUL, "mul", a, b, 1f, 1f);
    }

    static Tensor div(Tensor a, Tensor b) {
        return binary(DIV, "div", a, b, 1f, 1f);
    }

    /** {@code alpha·x + beta·y}, evaluated as {@code fma(x, alpha, y·beta)}. */
    static Tensor axpby(float alpha, Tensor x, float beta, Tensor y) {
        return binary(AXPBY, "axpby", x, y, alpha, beta);
    }

    /** {@code x·mul + add} with one rounding (fma). */
    static Tensor affine(Tensor x, float mul, float add) {
        requireFloat("affine", x);
        DenseLaunch k = DenseLaunch.sameShape(x);
        float[] dst = k.dst;
        float[] src = k.src;
        int so = k.srcOffset;
        int n = dst.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        k.range(blocks, Math.max(1, MIN_PARALLEL / BLOCK), (b0, b1) -> {
            int start = b0 * BLOCK;
            int len = Math.min(n, b1 * BLOCK) - start;
            int i = 0;
            for (int upper = S.loopBound(len); i < upper; i += L) {
                FloatVector.fromArray(S, src, so + start + i).fma(mul, add).intoArray(dst, start + i);
            }
            if (i < len) {
                VectorMask<Float> m = S.indexInRange(i, len);
                FloatVector.fromArray(S, src, so + start + i, m).fma(mul, add).intoArray(dst, start + i, m);
            }
        });
        return k.out;
    }

    // ---------------------------------------------------------------- broadcasting driver

    private static Tensor binary(int op, String name, Tensor a, Tensor b, float alpha, float beta) {
        requireFloat(name, a);
        requireFloat(name, b);
        int[] shape = Shapes.broadcast(name, a.shape(), b.shape());
        Tensor out = DenseLaunch.output(shape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor ha = heapF32(a);
        Tensor hb = heapF32(b);
        float[] da = ((FloatArrayStorage) ha.storage()).data();
        float[] db = ((FloatArrayStorage) hb.storage()).data();
        float[] dst = out.array();

        // Aligned strides (0 where an operand is broadcast), then drop size-1 dims and merge runs.
        int r = shape.length;
        long[] sa = alignedStrides(ha, r);
        long[] sb = alignedStrides(hb, r);
        int[] ms = new int[Math.max(1, r)];
        long[] ma = new long[ms.length];
        long[] mb = new long[ms.length];
        int k = 0;
        for (int d = 0; d < r; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (k > 0 && ma[k - 1] == sa[d] * shape[d] && mb[k - 1] == sb[d] * shape[d]) {
                ms[k - 1] *= shape[d];
                ma[k - 1] = sa[d];
                mb[k - 1] = sb[d];
            } else {
                ms[k] = shape[d];
                ma[k] = sa[d];
                mb[k] = sb[d];
                k++;
            }
        }
        if (k == 0) {
            ms[0] = 1;
            k = 1;
        }
        int rank = k;
        int inner = ms[rank - 1];
        long ia = ma[rank - 1];
        long ib = mb[rank - 1];
        int rows = dst.length / inner;
        int colBlocks = (inner + BLOCK - 1) / BLOCK;
        int unitLen = Math.min(inner, BLOCK);
        int units = rows * colBlocks;
        long offA = ha.offset();
        long offB = hb.offset();
        Parallel.range(units, Math.max(1, MIN_PARALLEL / unitLen), (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int row = u / colBlocks;
                int col = (u - row * colBlocks) * BLOCK;
                int len = Math.min(BLOCK, inner - col);
                long pa = offA + col * ia;
                long pb = offB + col * ib;
                int rem = row;
                for (int d = rank - 2; d >= 0; d--) {
                    int idx = rem % ms[d];
                    rem /= ms[d];
                    pa += idx * ma[d];
                    pb += idx * mb[d];
                }
                int po = row * inner + col;
                if (ia == 1 && ib == 1) {
                    runVV(op, da, (int) pa, db, (int) pb, dst, po, len, alpha, beta);
                } else if (ia == 1 && ib == 0) {
                    runVS(op, da, (int) pa, db[(int) pb], dst, po, len, alpha, beta);
                } else if (ia == 0 && ib == 1) {
                    runSV(op, da[(int) pa], db, (int) pb, dst, po, len, alpha, beta);
                } else {
                    runStrided(op, da, pa, ia, db, pb, ib, dst, po, len, alpha, beta);
                }
            }
        });
        return out;
    }

    private static long[] alignedStrides(Tensor t, int r) {
        int lead = r - t.rank();
        long[] s = new long[r];
        for (int i = lead; i < r; i++) {
            s[i] = t.dim(i - lead) == 1 ? 0 : t.stride(i - lead);
        }
        return s;
    }

    /**
     * The operand itself when it is F32 on the heap (any strides); otherwise a widened copy. Broadcast
     * (stride-0) dimensions are narrowed to one element first, so an expanded F16 bias is widened at
     * its own size, not at the size of the output.
     */
    private static Tensor heapF32(Tensor t) {
        if (t.dtype() == DType.F32 && t.storage() instanceof FloatArrayStorage) {
            return t;
        }
        Tensor c = t;
        for (int d = 0; d < c.rank(); d++) {
            if (c.stride(d) == 0 && c.dim(d) > 1) {
                c = c.narrow(d, 0, 1);
            }
        }
        return Copy.heapF32(c);
    }

    private static void requireFloat(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating-point tensor, got " + x);
        }
    }

    // ---------------------------------------------------------------- inner loops

    private static FloatVector apply(int op, FloatVector x, FloatVector y, float alpha, float beta) {
        return switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            default -> x.fma(FloatVector.broadcast(S, alpha), y.mul(beta));
        };
    }

    private static float apply(int op, float x, float y, float alpha, float beta) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            default -> Math.fma(x, alpha, y * beta);
        };
    }

    private static void runVV(int op, float[] a, int pa, float[] b, int pb, float[] o, int po, int len,
            float alpha, float beta) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, pa + i);
            FloatVector y = FloatVector.fromArray(S, b, pb + i);
            apply(op, x, y, alpha, beta).intoArray(o, po + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector x = FloatVector.fromArray(S, a, pa + i, m);
            FloatVector y = FloatVector.fromArray(S, b, pb + i, m);
            apply(op, x, y, alpha, beta).intoArray(o, po + i, m);
        }
    }

    private static void runVS(int op, float[] a, int pa, float bv, float[] o, int po, int len,
            float alpha, float beta) {
        FloatVector y = FloatVector.broadcast(S, bv);
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            apply(op, FloatVector.fromArray(S, a, pa + i), y, alpha, beta).intoArray(o, po + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            apply(op, FloatVector.fromArray(S, a, pa + i, m), y, alpha, beta).intoArray(o, po + i, m);
        }
    }

    private static void runSV(int op, float av, float[] b, int pb, float[] o, int po, int len,
            float alpha, float beta) {
        FloatVector x = FloatVector.broadcast(S, av);
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            apply(op, x, FloatVector.fromArray(S, b, pb + i), alpha, beta).intoArray(o, po + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            apply(op, x, FloatVector.fromArray(S, b, pb + i, m), alpha, beta).intoArray(o, po + i, m);
        }
    }

    private static void runStrided(int op, float[] a, long pa, long ia, float[] b, long pb, long ib,
            float[] o, int po, int len, float alpha, float beta) {
        for (int i = 0; i < len; i++) {
            o[po + i] = apply(op, a[(int) (pa + i * ia)], b[(int) (pb + i * ib)], alpha, beta);
        }
    }
}
