package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pointwise activations. Each reads a float tensor of any layout and writes a new contiguous F32
 * tensor. A strided or half-precision input is first widened into the output array and then
 * transformed in place, so no temporary is allocated.
 *
 * <p>Where x·σ(·) forms meet x = -inf, torch returns NaN (-inf·0); these kernels return the limit,
 * -0, so a masked -inf entry does not turn into NaN.
 */
final class Activations {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();

    /** Elements per work unit; two units are the least worth a second thread. */
    private static final int BLOCK = 8192;

    private static final float SQRT1_2 = 0.70710678118654752f;
    /** -2·sqrt(2/π) and -2·sqrt(2/π)·0.044715: tanh-GELU as x·σ(2k) with k = sqrt(2/π)(x + 0.044715x³). */
    private static final float TANH_C1 = -1.5957691216057308f;
    private static final float TANH_C3 = -0.07135481627260025f;
    private static final float QUICK = 1.702f;

    private enum Op { GELU, GELU_TANH, QUICK_GELU, SILU, EXP, CLAMP }

    private Activations() {
    }

    static Tensor gelu(Tensor x, boolean tanh) {
        return map(tanh ? Op.GELU_TANH : Op.GELU, "gelu", x, 0f, 0f);
    }

    static Tensor quickGelu(Tensor x) {
        return map(Op.QUICK_GELU, "quickGelu", x, 0f, 0f);
    }

    static Tensor silu(Tensor x) {
        return map(Op.SILU, "silu", x, 0f, 0f);
    }

    static Tensor exp(Tensor x) {
        return map(Op.EXP, "exp", x, 0f, 0f);
    }

    /** {@code min(max(x, min), max)} as torch.clamp: NaN stays NaN, and min > max gives max. */
    static Tensor clamp(Tensor x, float min, float max) {
        if (Float.isNaN(min) || Float.isNaN(max)) {
            throw new IllegalArgumentException("clamp: bounds must not be NaN, got [" + min + ", " + max + "]");
        }
        return map(Op.CLAMP, "clamp", x, min, max);
    }

    /** diffusers' GEGLU after its projection: {@code hidden, gate = x.chunk(2, -1); hidden * gelu(gate)}. */
    static Tensor geglu(Tensor x) {
        requireFloat("geglu", x);
        if (x.rank() == 0 || x.dim(-1) % 2 != 0) {
            throw new IllegalArgumentException("geglu: last dimension must be even (hidden and gate halves), got shape "
                    + Shapes.str(x.shape()));
        }
        int[] outShape = x.shape();
        int f = outShape[outShape.length - 1] / 2;
        outShape[outShape.length - 1] = f;
        DenseLaunch k = DenseLaunch.reshaped(x, outShape);
        float[] src = k.src;
        int so = k.srcOffset;
        float[] dst = k.dst;
        int rows = dst.length / Math.max(1, f);
        k.range(rows, Math.max(1, 2 * BLOCK / Math.max(1, f)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                gegluRow(src, so + 2 * r * f, f, dst, r * f);
            }
        });
        return k.out;
    }

    private static void gegluRow(float[] src, int s, int f, float[] dst, int d) {
        int i = 0;
        for (int upper = S.loopBound(f); i < upper; i += L) {
            FloatVector h = FloatVector.fromArray(S, src, s + i);
            FloatVector g = FloatVector.fromArray(S, src, s + f + i);
            h.mul(gelu(g)).intoArray(dst, d + i);
        }
        if (i < f) {
            VectorMask<Float> m = S.indexInRange(i, f);
            FloatVector h = FloatVector.fromArray(S, src, s + i, m);
            FloatVector g = FloatVector.fromArray(S, src, s + f + i, m);
            h.mul(gelu(g)).intoArray(dst, d + i, m);
        }
    }

    private static Tensor map(Op op, String name, Tensor x, float p0, float p1) {
        requireFloat(name, x);
        DenseLaunch k = DenseLaunch.sameShape(x);
        float[] dst = k.dst;
        float[] src = k.src;
        int so = k.srcOffset;
        int n = dst.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        k.range(blocks, 2, (b0, b1) -> {
            int start = b0 * BLOCK;
            int len = Math.min(n, b1 * BLOCK) - start;
            switch (op) {
                case GELU -> geluRun(src, so + start, dst, start, len);
                case GELU_TANH -> geluTanhRun(src, so + start, dst, start, len);
                case QUICK_GELU -> quickGeluRun(src, so + start, dst, start, len);
                case SILU -> siluRun(src, so + start, dst, start, len);
                case EXP -> expRun(src, so + start, dst, start, len);
                case CLAMP -> clampRun(src, so + start, dst, start, len, p0, p1);
            }
        });
        return k.out;
    }

    private static void requireFloat(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating-point tensor, got " + x);
        }
    }

    // ---------------------------------------------------------------- the functions, one vector at a time
    // Helpers that take or return vectors must inline into the loops, or every vector is boxed. C2
    // stops inlining once a method's graph is large (NodeCountInliningCutoff), and exp alone is big,
    // so these functions are written without further small helpers.

    /** x·Φ(x) = 0.5·x·(1 + erf(x/√2)); the negative tail keeps its relative accuracy. */
    static FloatVector gelu(FloatVector x) {
        FloatVector y = x.mul(0.5f).mul(Erf.onePlusErf(x.mul(SQRT1_2)));
        return y.blend(-0f, x.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }

    /** 0.5·x·(1 + tanh(k)) rewritten as x / (1 + exp(-2k)): no cancellation for negative x. */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector t = x.mul(x).fma(TANH_C3, TANH_C1).mul(x);
        return x.div(VectorMath.exp(t).add(1f)).blend(-0f, x.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }

    static FloatVector quickGelu(FloatVector x) {
        return x.div(VectorMath.exp(x.mul(-QUICK)).add(1f))
                .blend(-0f, x.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }

    static FloatVector silu(FloatVector x) {
        return x.div(VectorMath.exp(x.neg()).add(1f)).blend(-0f, x.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }

    // ---------------------------------------------------------------- runs: full vectors, then one masked tail

    private static void geluRun(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            gelu(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            gelu(FloatVector.fromArray(S, src, s + i, m)).intoArray(dst, d + i, m);
        }
    }

    private static void geluTanhRun(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            geluTanh(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            geluTanh(FloatVector.fromArray(S, src, s + i, m)).intoArray(dst, d + i, m);
        }
    }

    private static void quickGeluRun(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            quickGelu(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            quickGelu(FloatVector.fromArray(S, src, s + i, m)).intoArray(dst, d + i, m);
        }
    }

    private static void siluRun(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            silu(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            silu(FloatVector.fromArray(S, src, s + i, m)).intoArray(dst, d + i, m);
        }
    }

    private static void expRun(float[] src, int s, float[] dst, int d, int len) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            VectorMath.exp(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            VectorMath.exp(FloatVector.fromArray(S, src, s + i, m)).intoArray(dst, d + i, m);
        }
    }

    private static void clampRun(float[] src, int s, float[] dst, int d, int len, float lo, float hi) {
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            FloatVector.fromArray(S, src, s + i).max(lo).min(hi).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector.fromArray(S, src, s + i, m).max(lo).min(hi).intoArray(dst, d + i, m);
        }
    }
}
