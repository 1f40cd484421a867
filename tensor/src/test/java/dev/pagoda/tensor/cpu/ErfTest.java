package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class ErfTest {

    private static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
        int l = VectorMath.S.length();
        float[] padded = java.util.Arrays.copyOf(x, (x.length + l - 1) / l * l);
        float[] out = new float[padded.length];
        for (int i = 0; i < padded.length; i += l) {
            f.apply(FloatVector.fromArray(VectorMath.S, padded, i)).intoArray(out, i);
        }
        return java.util.Arrays.copyOf(out, x.length);
    }

    /** A dense grid over [-4.5, 4.5], the floats right around the branch point 1, and tiny magnitudes. */
    private static float[] grid() {
        int dense = 180_001;
        int near = 4000;
        int tiny = 2000;
        float[] x = new float[dense + 2 * near + 2 * tiny];
        int k = 0;
        for (int i = 0; i < dense; i++) {
            x[k++] = -4.5f + 9f * i / (dense - 1);
        }
        float up = 1f;
        float down = 1f;
        for (int i = 0; i < near; i++) {
            x[k++] = up = Math.nextUp(up);
            x[k++] = down = -Math.nextDown(Math.abs(down));
        }
        for (int i = 0; i < tiny; i++) {
            float v = (float) Math.pow(10, -38 + 38.0 * i / tiny);
            x[k++] = v;
            x[k++] = -v;
        }
        return x;
    }

    @Test
    void erfIsWithinTwoUlpOfCommonsMathEverywhere() {
        float[] x = grid();
        float[] y = apply(Erf::erf, x);
        double worst = 0;
        float at = 0;
        for (int i = 0; i < x.length; i++) {
            double e = Layouts.ulps(y[i], org.apache.commons.math3.special.Erf.erf((double) x[i]));
            if (e > worst) {
                worst = e;
                at = x[i];
            }
        }
        assertTrue(worst <= 2.0, "max error " + worst + " ulp at x = " + at);
    }

    @Test
    void erfIsWithinTwoUlpOnRandomFloats() {
        Random rng = new Random(11);
        float[] x = new float[100_000];
        for (int i = 0; i < x.length; i++) {
            // log-uniform magnitudes from 1e-6 to 10, both signs
            x[i] = (float) ((rng.nextBoolean() ? 1 : -1) * Math.pow(10, -6 + 7 * rng.nextDouble()));
        }
        float[] y = apply(Erf::erf, x);
        for (int i = 0; i < x.length; i++) {
            double e = Layouts.ulps(y[i], org.apache.commons.math3.special.Erf.erf((double) x[i]));
            assertTrue(e <= 2.0, "erf(" + x[i] + ") = " + y[i] + ", error " + e + " ulp");
        }
    }

    @Test
    void erfSpecialValues() {
        float[] x = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3.92f, 4f, 10f, -1e30f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE};
        float[] y = apply(Erf::erf, x);
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(y[0]));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(y[1]));
        assertEquals(1f, y[2]);
        assertEquals(-1f, y[3]);
        assertTrue(Float.isNaN(y[4]));
        assertEquals(1f, y[6]);
        assertEquals(1f, y[7]);
        assertEquals(-1f, y[8]);
        // erf(x) ≈ 2x/√π below the smallest normal
        assertEquals(Float.MIN_VALUE, y[9]);
        assertEquals(-Float.MIN_VALUE, y[10]);
        assertEquals(1f, y[11]);
    }

    @Test
    void onePlusErfKeepsRelativeAccuracyInTheNegativeTail() {
        float[] x = new float[40_001];
        for (int i = 0; i < x.length; i++) {
            x[i] = -4f + 8f * i / (x.length - 1);
        }
        float[] y = apply(Erf::onePlusErf, x);
        for (int i = 0; i < x.length; i++) {
            double ref = org.apache.commons.math3.special.Erf.erfc(-(double) x[i]);
            // erfc's own ~1e-6 (the rounding of x² inside exp(-x²)), or a few ulp where 1 + erf ≥ 0.3
            double tol = 2e-6 * ref;
            assertTrue(Math.abs(y[i] - ref) <= tol, "1+erf(" + x[i] + ") = " + y[i] + " vs " + ref);
        }
    }

    @Test
    void onePlusErfBeyondTheFitStaysWithinAFactorAndReachesZero() {
        float[] x = new float[5_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = -4f - 5.2f * i / (x.length - 1);
        }
        float[] y = apply(Erf::onePlusErf, x);
        for (int i = 0; i < x.length; i++) {
            double ref = org.apache.commons.math3.special.Erf.erfc(-(double) x[i]);
            if (ref > 1e-37) {
                double ratio = y[i] / ref;
                assertTrue(ratio > 1 / 2.4 && ratio < 2.4, "1+erf(" + x[i] + ") = " + y[i] + " vs " + ref);
            }
        }
        float[] far = apply(Erf::onePlusErf, new float[] {-9.5f, -100f, Float.NEGATIVE_INFINITY, Float.NaN, 100f});
        // erfc(9.5) = 7.2e-41 is a float32 subnormal; exp keeps subnormals, so it need not flush to 0
        assertTrue(far[0] >= 0f && far[0] < 2e-40f, "1+erf(-9.5) = " + far[0]);
        assertEquals(0f, far[1]);
        assertEquals(0f, far[2]);
        assertTrue(Float.isNaN(far[3]));
        assertEquals(2f, far[4]);
    }
}
