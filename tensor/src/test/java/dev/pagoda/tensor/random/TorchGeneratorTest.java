package dev.pagoda.tensor.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The engine and the state carried between draws, beyond what the golden file pins down. */
class TorchGeneratorTest {

    @Test
    void engineIsStandardMt19937() {
        // The C++ standard fixes these: the 1st and the 10000th output of mt19937 seeded with 5489.
        TorchGenerator g = new TorchGenerator(5489);
        assertEquals(3499211612L, g.nextInt32() & 0xffffffffL);
        for (int i = 2; i < 10000; i++) {
            g.nextInt32();
        }
        assertEquals(4123659995L, g.nextInt32() & 0xffffffffL);
    }

    @Test
    void random64TakesTheFirstWordAsHighHalf() {
        TorchGenerator a = new TorchGenerator(3);
        TorchGenerator b = new TorchGenerator(3);
        long hi = a.nextInt32() & 0xffffffffL;
        long lo = a.nextInt32() & 0xffffffffL;
        assertEquals((hi << 32) | lo, b.nextLong64());
    }

    @Test
    void scalarDrawsHandOutTheCachedSecondNormalAcrossCalls() {
        float[] pair = new TorchGenerator(11).randn(2).toFloatArray();
        TorchGenerator g = new TorchGenerator(11);
        float first = g.randn(1).toFloatArray()[0];
        float second = g.randn(1).toFloatArray()[0];
        assertEquals(Float.floatToRawIntBits(pair[0]), Float.floatToRawIntBits(first));
        assertEquals(Float.floatToRawIntBits(pair[1]), Float.floatToRawIntBits(second));
    }

    @Test
    void vectorisedDrawsLeaveTheScalarCacheInPlace() {
        float[] pair = new TorchGenerator(5).randn(2).toFloatArray();
        TorchGenerator g = new TorchGenerator(5);
        g.randn(1);
        float[] big = g.randn(16).toFloatArray();
        float cached = g.randn(1).toFloatArray()[0];
        assertEquals(Float.floatToRawIntBits(pair[1]), Float.floatToRawIntBits(cached));
        // ...while the 16-wide path consumed the engine: the next scalar draw is a fresh pair.
        float fresh = g.randn(1).toFloatArray()[0];
        assertNotEquals(pair[0], fresh);
        assertEquals(16, big.length);
    }

    @Test
    void manualSeedRestartsTheStreamAndForgetsTheCache() {
        TorchGenerator g = new TorchGenerator(9);
        g.randn(3);
        g.randn(40);
        g.manualSeed(9);
        assertArrayEquals(new TorchGenerator(9).randn(5).toFloatArray(), g.randn(5).toFloatArray());
        assertEquals(9, g.initialSeed());
    }

    @Test
    void emptyDrawConsumesNothing() {
        TorchGenerator g = new TorchGenerator(1);
        assertEquals(0, g.randn(0, 4).numel());
        assertArrayEquals(new TorchGenerator(1).randn(17).toFloatArray(), g.randn(17).toFloatArray());
    }

    @Test
    void tailOfANonMultipleOf16IsRedrawnFromFreshUniforms() {
        // size 17: 17 uniforms, block [0,16) transformed, then 16 fresh uniforms for [1,17).
        // Element 0 therefore equals element 0 of a 16-element draw; the rest do not.
        float[] a = new TorchGenerator(21).randn(16).toFloatArray();
        float[] b = new TorchGenerator(21).randn(17).toFloatArray();
        assertEquals(Float.floatToRawIntBits(a[0]), Float.floatToRawIntBits(b[0]));
        assertNotEquals(a[1], b[1]);
    }

    @Test
    void cephesLogapproximatesTheNaturalLogarithm() {
        for (int i = 1; i <= 1 << 24; i += 997) {
            float u = i * 0x1p-24f;
            double ref = Math.log(u);
            float got = Avx2BoxMuller.log(u);
            double tol = 4 * Math.ulp((float) ref) + 1e-7;
            assertTrue(Math.abs(got - ref) <= tol, "log(" + u + ") = " + got + ", expected " + ref);
        }
        assertTrue(Float.isNaN(Avx2BoxMuller.log(0.0f)));
    }

    @Test
    void normalsHaveUnitMomentsOverALargeDraw() {
        float[] v = new TorchGenerator(123).randn(1 << 16).toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            assertTrue(Float.isFinite(x));
            sum += x;
            sq += x * (double) x;
        }
        double mean = sum / v.length;
        double var = sq / v.length - mean * mean;
        assertTrue(Math.abs(mean) < 0.02, "mean " + mean);
        assertTrue(Math.abs(var - 1) < 0.02, "variance " + var);
    }

    @Test
    void hugeShapeIsRejectedWithTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TorchGenerator(0).randn(1 << 16, 1 << 16));
        assertTrue(e.getMessage().contains("[65536, 65536]"), e.getMessage());
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                () -> new TorchGenerator(0).randn(2, -3));
        assertTrue(neg.getMessage().contains("[2, -3]"), neg.getMessage());
    }
}
