package dev.pagoda.tensor.random;

/**
 * The 16-wide Box–Muller transform of torch's AVX2 {@code normal_fill}: lanes j and j+8 of a block
 * of 16 uniforms become one pair of normals. Its logarithm and sine/cosine are the single-precision
 * Cephes polynomials of {@code avx_mathfun.h}, not libm, so they are ported here operation by
 * operation.
 *
 * <p>torch builds these kernels with GCC, {@code -mavx2 -mfma} and the default
 * {@code -ffp-contract=fast}: every multiply whose only use is an add or subtract is fused into an
 * FMA. {@link Math#fma} reproduces each contraction; the choice of which product GCC fuses where two
 * are candidates (the {@code y*z + e*q1} and {@code y*z - 0.5*z} sites) was confirmed bit for bit
 * against torch's output.
 */
final class Avx2BoxMuller {

    private static final float TWO_PI = (float) (2.0 * Math.PI);
    private static final float MIN_NORM_POS = Float.intBitsToFloat(0x00800000);
    private static final int INV_MANT_MASK = ~0x7f800000;
    private static final int HALF_BITS = Float.floatToRawIntBits(0.5f);
    private static final float SQRTHF = 0.707106781186547524f;

    private static final float LOG_P0 = 7.0376836292E-2f;
    private static final float LOG_P1 = -1.1514610310E-1f;
    private static final float LOG_P2 = 1.1676998740E-1f;
    private static final float LOG_P3 = -1.2420140846E-1f;
    private static final float LOG_P4 = 1.4249322787E-1f;
    private static final float LOG_P5 = -1.6668057665E-1f;
    private static final float LOG_P6 = 2.0000714765E-1f;
    private static final float LOG_P7 = -2.4999993993E-1f;
    private static final float LOG_P8 = 3.3333331174E-1f;
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;

    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float SINCOF_P0 = -1.9515295891E-4f;
    private static final float SINCOF_P1 = 8.3321608736E-3f;
    private static final float SINCOF_P2 = -1.6666654611E-1f;
    private static final float COSCOF_P0 = 2.443315711809948E-005f;
    private static final float COSCOF_P1 = -1.388731625493765E-003f;
    private static final float COSCOF_P2 = 4.166664568298827E-002f;
    private static final float FOUR_OVER_PI = 1.27323954473516f;

    private Avx2BoxMuller() {
    }

    /** Replaces the 16 uniforms in [0, 1) at {@code data[off..off+15]} by 16 standard normals. */
    static void transform16(float[] data, int off) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1.0f - data[off + j];
            float u2 = data[off + j + 8];
            float radius = (float) Math.sqrt(-2.0f * log(u1));
            float theta = TWO_PI * u2;
            sincos(theta, radius, data, off + j);
        }
    }

    /** {@code log256_ps} for one lane; u1 is in (0, 1], so the NaN branch never fires. */
    static float log(float v) {
        float x = Math.max(v, MIN_NORM_POS);
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 0x7f) + 1.0f;
        x = Float.intBitsToFloat((bits & INV_MANT_MASK) | HALF_BITS);
        boolean small = x < SQRTHF;
        float tmp = small ? x : 0.0f;
        x = x - 1.0f;
        e = e - (small ? 1.0f : 0.0f);
        x = x + tmp;
        float z = x * x;
        float y = Math.fma(LOG_P0, x, LOG_P1);
        y = Math.fma(y, x, LOG_P2);
        y = Math.fma(y, x, LOG_P3);
        y = Math.fma(y, x, LOG_P4);
        y = Math.fma(y, x, LOG_P5);
        y = Math.fma(y, x, LOG_P6);
        y = Math.fma(y, x, LOG_P7);
        y = Math.fma(y, x, LOG_P8);
        y = y * x;
        y = Math.fma(y, z, e * LOG_Q1);
        y = Math.fma(-z, 0.5f, y);
        x = x + y;
        x = Math.fma(e, LOG_Q2, x);
        if (v <= 0.0f) {
            return Float.NaN;
        }
        return x;
    }

    /**
     * {@code sincos256_ps} for one lane, writing {@code radius*cos} to {@code out[i]} and
     * {@code radius*sin} to {@code out[i+8]} (theta is in [0, 2π), its sign bit is never set).
     */
    private static void sincos(float theta, float radius, float[] out, int i) {
        int signSin = Float.floatToRawIntBits(theta) & 0x80000000;
        float x = Math.abs(theta);
        int j = ((int) (x * FOUR_OVER_PI) + 1) & ~1;
        float y = (float) j;
        int swapSin = (j & 4) << 29;
        boolean sinPolyFirst = (j & 2) == 0;
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);
        int signCos = (~(j - 2) & 4) << 29;
        signSin ^= swapSin;

        float z = x * x;
        float yc = Math.fma(COSCOF_P0, z, COSCOF_P1);
        yc = Math.fma(yc, z, COSCOF_P2);
        yc = yc * z;
        yc = Math.fma(yc, z, -(z * 0.5f));
        yc = yc + 1.0f;

        float ys = Math.fma(SINCOF_P0, z, SINCOF_P1);
        ys = Math.fma(ys, z, SINCOF_P2);
        ys = ys * z;
        ys = Math.fma(ys, x, x);

        // The reference selects between the polynomials with bit masks and then adds the masked
        // (+0) half; kept as written so that even the sign of a zero result matches.
        float ysin2 = sinPolyFirst ? ys : 0.0f;
        float ysin1 = sinPolyFirst ? 0.0f : yc;
        float s = ysin1 + ysin2;
        float c = (yc - ysin1) + (ys - ysin2);
        s = Float.intBitsToFloat(Float.floatToRawIntBits(s) ^ signSin);
        c = Float.intBitsToFloat(Float.floatToRawIntBits(c) ^ signCos);
        out[i] = radius * c;
        out[i + 8] = radius * s;
    }
}
