package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised transcendental functions accurate to a few float32 ulps, for the kernels' inner loops
 * (softmax, attention, SiLU, GELU). Written as polynomials because they inline into the caller's
 * loop, unlike the library calls behind {@code VectorOperators.EXP}.
 */
public final class VectorMath {

    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /*
     * Clamp bounds. Below EXP_LO the result underflows to exactly 0 through the arithmetic itself
     * (2^-159 is far under half the smallest subnormal), above EXP_HI it overflows to +inf; so -inf,
     * +inf and every very large magnitude need no separate fix-up.
     */
    private static final float EXP_LO = -110f;
    private static final float EXP_HI = 89f;
    /*
     * 1.5·2^23: adding it to a float of magnitude < 2^22 rounds that float to an integer, which then
     * sits in the low mantissa bits. This replaces a float→int conversion, which the JIT expands into
     * a slow fix-up sequence on AVX2 to honour Java's NaN and saturation rules.
     */
    private static final float ROUND_MAGIC = 12582912f;
    private static final int ROUND_MAGIC_BITS = Float.floatToRawIntBits(ROUND_MAGIC);

    private VectorMath() {
    }

    /**
     * e^x: Cody–Waite reduction by ln 2 around n = round(x·log2 e), Cephes' degree-5 polynomial on
     * |r| ≤ ln2/2, then scaling by 2^n in two halves so that n = 128 (x just below ln(FLT_MAX)) and
     * the subnormal range are both exact scalings. Measured error &lt; 1 ulp (VectorMathTest samples
     * every 251st float in [-120, 100]); x &lt; -103.98 gives exactly 0 (so does -inf), x ≥ 88.73 gives +inf,
     * NaN gives NaN.
     */
    public static FloatVector exp(FloatVector x) {
        // compare+blend rather than min/max: Java's NaN-propagating max costs five AVX2 instructions,
        // and a NaN passes both compares unchanged anyway.
        FloatVector xc = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO));
        xc = xc.blend(EXP_HI, xc.compare(VectorOperators.GT, EXP_HI));
        FloatVector kf = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND_MAGIC));
        FloatVector fx = kf.sub(ROUND_MAGIC);
        IntVector n = ((IntVector) kf.reinterpretAsInts()).sub(ROUND_MAGIC_BITS);
        FloatVector r = fx.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = fx.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector r2 = r.mul(r);
        FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);
        p = p.fma(r, FloatVector.broadcast(S, 1.3981999507E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894E-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459E-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201E-1f));
        p = p.fma(r2, r).add(1f);
        // n lies in [-159, 128]; each half lies in [-80, 64], so both powers of two are normal floats.
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = n.sub(n1);
        FloatVector s1 = (FloatVector) n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = (FloatVector) n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /** Scalar twin of {@link #exp(FloatVector)} for loop tails: the same operations, so the same bits. */
    public static float exp(float x) {
        float xc = x < EXP_LO ? EXP_LO : x;
        xc = xc > EXP_HI ? EXP_HI : xc;
        float kf = Math.fma(xc, LOG2E, ROUND_MAGIC);
        float fx = kf - ROUND_MAGIC;
        int n = Float.floatToRawIntBits(kf) - ROUND_MAGIC_BITS;
        float r = Math.fma(fx, -LN2_HI, xc);
        r = Math.fma(fx, -LN2_LO, r);
        float r2 = r * r;
        float p = 1.9875691500E-4f;
        p = Math.fma(p, r, 1.3981999507E-3f);
        p = Math.fma(p, r, 8.3334519073E-3f);
        p = Math.fma(p, r, 4.1665795894E-2f);
        p = Math.fma(p, r, 1.6666665459E-1f);
        p = Math.fma(p, r, 5.0000001201E-1f);
        p = Math.fma(p, r2, r) + 1f;
        int n1 = n >> 1;
        int n2 = n - n1;
        return p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }

    private static final jdk.incubator.vector.VectorShuffle<Float>[] HALVES = halvingShuffles();

    @SuppressWarnings("unchecked")
    private static jdk.incubator.vector.VectorShuffle<Float>[] halvingShuffles() {
        int n = S.length();
        int steps = Integer.numberOfTrailingZeros(n);
        jdk.incubator.vector.VectorShuffle<Float>[] out = new jdk.incubator.vector.VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int half = n >> (k + 1);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = (i + half) % n;
            }
            out[k] = jdk.incubator.vector.VectorShuffle.fromArray(S, idx, 0);
        }
        return out;
    }

    /**
     * The sum of the lanes in one fixed pairwise order. {@code reduceLanes(ADD)} leaves the order
     * unspecified, and it differs between the interpreter and C2-compiled code, so the same inputs
     * could give different bits before and after a kernel is compiled. Lane-wise adds of rotated
     * copies are exact per lane and compile to the same order.
     */
    public static float sum(FloatVector v) {
        for (jdk.incubator.vector.VectorShuffle<Float> sh : HALVES) {
            v = v.add(v.rearrange(sh));
        }
        return v.lane(0);
    }
}
