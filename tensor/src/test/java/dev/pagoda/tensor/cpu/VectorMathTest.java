package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {

    private static final int L = VectorMath.S.length();
    /** Smallest subnormal float, the spacing of floats below 2^-126. */
    private static final double MIN_SUB = Math.scalb(1.0, -149);

    private static float vectorExp(float x) {
        float[] in = new float[L];
        java.util.Arrays.fill(in, x);
        float[] out = new float[L];
        VectorMath.exp(FloatVector.fromArray(VectorMath.S, in, 0)).intoArray(out, 0);
        return out[L - 1];
    }

    /** Error of {@code got} in ulps of the correctly rounded float result (subnormal ulps below 2^-126). */
    private static double ulpError(float got, double exact) {
        float rounded = (float) exact;
        double ulp = Math.max(Math.ulp(rounded), MIN_SUB);
        if (Float.isInfinite(rounded)) {
            return got == rounded ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(got - exact) / ulp;
    }

    /** Every float in [lo, hi] visited with a stride of {@code step} bit patterns, both signs handled. */
    private static void forFloats(float lo, float hi, int step, java.util.function.DoubleConsumer body) {
        // Walk the ordered integer image of the floats so that the stride is uniform in ulps.
        int a = ordered(lo);
        int b = ordered(hi);
        for (long i = a; i <= b; i += step) {
            body.accept(unordered((int) i));
        }
    }

    private static int ordered(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? Integer.MIN_VALUE - bits : bits;
    }

    private static float unordered(int o) {
        return Float.intBitsToFloat(o < 0 ? Integer.MIN_VALUE - o : o);
    }

    @Test
    void expIsWithinOneAndAHalfUlpsOverTheWholeFiniteRange() {
        double[] worst = {0, 0};
        float[] block = new float[L];
        float[] got = new float[L];
        int[] fill = {0};
        // ~4 million samples over every float that does not trivially saturate, plus far outside.
        forFloats(-120f, 100f, 251, x -> {
            block[fill[0]++] = (float) x;
            if (fill[0] == L) {
                VectorMath.exp(FloatVector.fromArray(VectorMath.S, block, 0)).intoArray(got, 0);
                for (int i = 0; i < L; i++) {
                    double e = ulpError(got[i], Math.exp(block[i]));
                    if (e > worst[0]) {
                        worst[0] = e;
                        worst[1] = block[i];
                    }
                }
                fill[0] = 0;
            }
        });
        System.out.printf("VectorMath.exp: max error %.3f ulp at x = %s%n", worst[0], (float) worst[1]);
        assertTrue(worst[0] <= 1.5, "max error " + worst[0] + " ulp at x = " + (float) worst[1]);
    }

    @Test
    void expIsAccurateNearTheOverflowThreshold() {
        // Where round(x·log2 e) = 128: the result is finite up to ln(FLT_MAX) and must not be +inf.
        forFloats(88.0f, 89.5f, 1, x -> {
            float y = VectorMath.exp((float) x);
            double e = ulpError(y, Math.exp(x));
            assertTrue(e <= 2.0, "exp(" + (float) x + ") = " + y + ", expected " + (float) Math.exp(x));
        });
        assertTrue(Float.isFinite(VectorMath.exp(88.72283f)));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(88.73f));
    }

    @Test
    void expUnderflowsToSubnormalsAndThenExactlyZero() {
        forFloats(-104.5f, -87f, 1, x -> {
            float y = VectorMath.exp((float) x);
            double e = ulpError(y, Math.exp(x));
            assertTrue(e <= 2.0, "exp(" + (float) x + ") = " + y + ", expected " + (float) Math.exp(x));
        });
        for (float x : new float[] {-104f, -105f, -110f, -150f, -1e4f, -1e30f, -Float.MAX_VALUE,
                Float.NEGATIVE_INFINITY}) {
            assertEquals(0, Float.floatToRawIntBits(VectorMath.exp(x)), "exp(" + x + ") must be +0");
            assertEquals(0, Float.floatToRawIntBits(vectorExp(x)), "vector exp(" + x + ") must be +0");
        }
    }

    @Test
    void expOfSpecialValues() {
        assertEquals(1f, VectorMath.exp(0f));
        assertEquals(1f, VectorMath.exp(-0f));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(Float.MAX_VALUE));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(1e10f));
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
        assertEquals(1f, vectorExp(0f));
        assertEquals(Float.POSITIVE_INFINITY, vectorExp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(vectorExp(Float.NaN)));
        assertTrue(Float.isNaN(vectorExp(Float.intBitsToFloat(0xffc01234))));
        assertEquals((float) Math.E, VectorMath.exp(1f), Math.ulp((float) Math.E));
        // Tiny arguments: exp(x) = 1 + x to within rounding.
        assertEquals(1f, VectorMath.exp(1e-10f));
        assertEquals(1f + 1e-6f, VectorMath.exp(1e-6f), Math.ulp(1f));
    }

    @Test
    void scalarTwinGivesTheSameBitsAsEveryVectorLane() {
        java.util.Random rnd = new java.util.Random(7);
        float[] in = new float[L];
        float[] out = new float[L];
        for (int it = 0; it < 20000; it++) {
            for (int i = 0; i < L; i++) {
                in[i] = switch (rnd.nextInt(4)) {
                    case 0 -> (float) (rnd.nextGaussian() * 10);
                    case 1 -> (rnd.nextFloat() - 0.5f) * 240f;
                    case 2 -> Float.intBitsToFloat(rnd.nextInt());
                    default -> -rnd.nextFloat() * 30f;
                };
            }
            VectorMath.exp(FloatVector.fromArray(VectorMath.S, in, 0)).intoArray(out, 0);
            for (int i = 0; i < L; i++) {
                float s = VectorMath.exp(in[i]);
                assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(out[i]),
                        "lane " + i + " x = " + in[i] + ": scalar " + s + ", vector " + out[i]);
            }
        }
    }
}
