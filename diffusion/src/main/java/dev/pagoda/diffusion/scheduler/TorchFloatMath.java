package dev.pagoda.diffusion.scheduler;

/**
 * torch's float32 {@code exp}, {@code log} and {@code expm1} on the CPU, bit for bit. torch evaluates
 * them with SLEEF's 1-ulp vector routines ({@code Sleef_expf8_u10}, {@code Sleef_logf8_u10},
 * {@code Sleef_expm1f8_u10}) even for a single element, so about one result in ten differs by an ulp
 * from the correctly rounded value that {@code (float) Math.exp(x)} gives. That ulp matters where a
 * noise level becomes a Brownian-tree query time (rounded to six decimals by torchsde): a different
 * ulp queries a different point of the path. The algorithms below are SLEEF's (Cody–Waite range
 * reduction, minimax polynomials, double-float arithmetic), written out for the FMA targets torch
 * uses; they were checked against torch 1.13 on random inputs.
 */
final class TorchFloatMath {

    private static final float R_LN2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    private static final float L2U = 0.693145751953125f;
    private static final float L2L = 1.428606765330187045e-06f;
    private static final float LN2_HI = 0.69314718246459960938f;
    private static final float LN2_LO = -1.904654323148236017e-09f;

    private TorchFloatMath() {
    }

    /** 2^q·u without overflow in the scale factor (SLEEF's {@code ldexp2k}). */
    private static float ldexp2(float u, int q) {
        int h = q >> 1;
        return u * Float.intBitsToFloat((h + 127) << 23) * Float.intBitsToFloat((q - h + 127) << 23);
    }

    /** {@code torch.exp} of a float32 value. */
    static float exp(float d) {
        int q = (int) Math.rint(d * R_LN2);
        float s = Math.fma(q, -L2U, d);
        s = Math.fma(q, -L2L, s);
        float u = 0.000198527617612853646278381f;
        u = Math.fma(u, s, 0.00139304355252534151077271f);
        u = Math.fma(u, s, 0.00833336077630519866943359f);
        u = Math.fma(u, s, 0.0416664853692054748535156f);
        u = Math.fma(u, s, 0.166666671633720397949219f);
        u = Math.fma(u, s, 0.5f);
        u = 1.0f + Math.fma(s * s, u, s);
        u = ldexp2(u, q);
        if (d < -104) {
            u = 0;
        }
        if (d > 100) {
            u = Float.POSITIVE_INFINITY;
        }
        return u;
    }

    /** {@code torch.log} of a float32 value. */
    static float log(float d) {
        if (Float.isNaN(d) || d < 0) {
            return Float.NaN;
        }
        if (d == 0) {
            return Float.NEGATIVE_INFINITY;
        }
        if (d == Float.POSITIVE_INFINITY) {
            return Float.POSITIVE_INFINITY;
        }
        boolean tiny = d < Float.MIN_NORMAL;
        if (tiny) {
            d *= 0x1p64f;
        }
        int e = ((Float.floatToRawIntBits(d * (1.0f / 0.75f)) >>> 23) & 0xff) - 0x7f;
        float m = Float.intBitsToFloat(Float.floatToRawIntBits(d) - (e << 23));
        if (tiny) {
            e -= 64;
        }
        float ef = e;
        // s = (ln 2 as a double-float) · e
        float sx = LN2_HI * ef;
        float sy = Math.fma(LN2_LO, ef, Math.fma(LN2_HI, ef, -sx));
        // x = (m − 1)/(m + 1) as a double-float quotient
        float nx = -1.0f + m;
        float v = nx - (-1.0f);
        float ny = (-1.0f - (nx - v)) + (m - v);
        float dx = 1.0f + m;
        v = dx - 1.0f;
        float dy = (1.0f - (dx - v)) + (m - v);
        float t = 1.0f / dx;
        float qx = nx * t;
        float u = Math.fma(t, nx, -qx);
        float qy = Math.fma(-dy, t, Math.fma(-dx, t, 1.0f));
        qy = Math.fma(qx, qy, Math.fma(ny, t, u));
        float x2 = qx * qx;
        float p = 0.3027294874f;
        p = Math.fma(p, x2, 0.3996108174f);
        p = Math.fma(p, x2, 0.6666694880f);
        float ax = qx * 2.0f;
        float ay = qy * 2.0f;
        float rx = sx + ax;
        float ry = (((sx - rx) + ax) + sy) + ay;
        float w = (x2 * qx) * p;
        float r2x = rx + w;
        float r2y = ((rx - r2x) + w) + ry;
        return r2x + r2y;
    }

    /** {@code torch.expm1} of a float32 value. */
    static float expm1(float a) {
        if (a > 88.72283172607421875f) {
            return Float.POSITIVE_INFINITY;
        }
        if (a < -16.635532333438687426013570f) {
            return -1.0f;
        }
        if (a == 0 && 1 / a < 0) {
            return -0.0f;
        }
        float[] e = expk2(a);
        // dfadd2(e, −1)
        float rx = e[0] + -1.0f;
        float v = rx - e[0];
        float ry = (e[0] - (rx - v)) + (-1.0f - v);
        ry = ry + e[1];
        return rx + ry;
    }

    /** SLEEF's {@code expk2f}: e^a as a double-float {hi, lo}. */
    private static float[] expk2(float a) {
        float u = a * R_LN2;
        int q = (int) Math.rint(u);
        // s = dfadd2((a, 0), q·(−L2U)), then dfadd2(s, q·(−L2L))
        float[] s = add2(a, 0.0f, q * -L2U);
        s = add2(s[0], s[1], q * -L2L);
        u = 0.1980960224e-3f;
        u = Math.fma(u, s[0], 0.1394256484e-2f);
        u = Math.fma(u, s[0], 0.8333456703e-2f);
        u = Math.fma(u, s[0], 0.4166637361e-1f);
        float[] t = mul(s[0], s[1], u);
        t = add2(t[0], t[1], 0.166666659414234244790680580464e+0f);
        t = mul2(s[0], s[1], t[0], t[1]);
        t = add2(t[0], t[1], 0.5f);
        float[] sq = square(s[0], s[1]);
        t = mul2(sq[0], sq[1], t[0], t[1]);
        // dfadd2_vf2_vf2_vf2(s, t)
        float tx = s[0] + t[0];
        float v = tx - s[0];
        float ty = (s[0] - (tx - v)) + (t[0] - v);
        ty = ty + (s[1] + t[1]);
        // dfadd_vf2_vf_vf2(1, t)
        float rx = 1.0f + tx;
        float ry = ((1.0f - rx) + tx) + ty;
        float hi = ldexp2(rx, q);
        float lo = ldexp2(ry, q);
        if (a < -104) {
            hi = 0;
            lo = 0;
        }
        return new float[] {hi, lo};
    }

    /** dfadd2_vf2_vf2_vf: (xh, xl) + y. */
    private static float[] add2(float xh, float xl, float y) {
        float rx = xh + y;
        float v = rx - xh;
        float ry = (xh - (rx - v)) + (y - v);
        return new float[] {rx, ry + xl};
    }

    /** dfmul_vf2_vf2_vf (FMA): (xh, xl) · y. */
    private static float[] mul(float xh, float xl, float y) {
        float rx = xh * y;
        return new float[] {rx, Math.fma(xl, y, Math.fma(xh, y, -rx))};
    }

    /** dfmul_vf2_vf2_vf2 (FMA). */
    private static float[] mul2(float xh, float xl, float yh, float yl) {
        float rx = xh * yh;
        return new float[] {rx, Math.fma(xh, yl, Math.fma(xl, yh, Math.fma(xh, yh, -rx)))};
    }

    /** dfsqu_vf2_vf2 (FMA). */
    private static float[] square(float xh, float xl) {
        float rx = xh * xh;
        return new float[] {rx, Math.fma(xh + xh, xl, Math.fma(xh, xh, -rx))};
    }
}
