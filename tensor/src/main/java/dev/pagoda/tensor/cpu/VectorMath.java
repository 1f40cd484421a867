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

    private VectorMath() {
    }

    /**
     * e^x (Cephes expf: range reduction by ln 2, degree-5 polynomial, scale by 2^n). Inputs below
     * about -87.3 give 0, above 88.7 give +inf, NaN stays NaN. Max error ~2 ulp.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector xc = x.min(88.7228391f).max(-87.3365448f);
        FloatVector t = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, 0.5f));
        // floor(t): truncate, then step down where truncation rounded a negative value up
        FloatVector fx = (FloatVector) ((IntVector) t.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0);
        fx = fx.sub(FloatVector.broadcast(S, 1f), fx.compare(VectorOperators.GT, t));
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
        IntVector n = (IntVector) fx.convert(VectorOperators.F2I, 0);
        IntVector bits = n.add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scaleV = (FloatVector) bits.reinterpretAsFloats();
        FloatVector res = p.mul(scaleV);
        // Below the clamp the result must be exactly 0 (softmax of -inf masks), above it +inf.
        res = res.blend(0f, x.compare(VectorOperators.LT, -87.3365448f));
        res = res.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.7228391f));
        return res.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** Scalar twin of {@link #exp(FloatVector)} for loop tails, so tails round the same way. */
    public static float exp(float x) {
        if (Float.isNaN(x)) {
            return x;
        }
        if (x < -87.3365448f) {
            return 0f;
        }
        if (x > 88.7228391f) {
            return Float.POSITIVE_INFINITY;
        }
        float fx = (float) Math.floor(Math.fma(Math.max(Math.min(x, 88.7228391f), -87.3365448f), LOG2E, 0.5f));
        float xc = Math.max(Math.min(x, 88.7228391f), -87.3365448f);
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
        return p * Float.intBitsToFloat(((int) fx + 127) << 23);
    }
}
