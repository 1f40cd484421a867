package dev.pagoda.diffusion.scheduler;

/**
 * numpy's float32 {@code log} (the AVX2/AVX512F loop of numpy 1.2x, used for 0-d arrays too): the
 * mantissa is reduced to (√½, √2], and log(1 + t) is a degree-5/degree-5 rational minimax
 * approximation evaluated with FMA. It is up to ~4 ulp from the correctly rounded value. diffusers'
 * DEIS calls {@code np.log} on its float32 noise ratios, so the log-ρ integration coefficients need
 * this function to match to the bit.
 */
final class NumpyFloatMath {

    private NumpyFloatMath() {
    }

    /** {@code np.log} of a float32 value. */
    static float log(float x) {
        if (Float.isNaN(x) || x < 0) {
            return Float.NaN;
        }
        if (x == 0) {
            return Float.NEGATIVE_INFINITY;
        }
        if (x == Float.POSITIVE_INFINITY) {
            return Float.POSITIVE_INFINITY;
        }
        int bits = Float.floatToRawIntBits(x);
        int biased = (bits >>> 23) & 0xff;
        float ef;
        float m;
        if (biased == 0) { // subnormal: normalise first
            int shift = Integer.numberOfLeadingZeros(bits) - 8;
            int mant = (bits << shift) & 0x7fffff;
            ef = -125 - shift;
            m = Float.intBitsToFloat(mant | (126 << 23));
        } else {
            ef = biased - 126;
            m = Float.intBitsToFloat((bits & 0x807fffff) | (126 << 23));
        }
        if (m <= 0.70710677f) {
            m = m + m;
            ef = ef - 1.0f;
        }
        float t = m - 1.0f;
        float num = Math.fma(2.589979117907922693523e-02f, t, 3.808837741388407920751e-01f);
        num = Math.fma(num, t, 1.480000633576506585156e+00f);
        num = Math.fma(num, t, 2.112677543073053063722e+00f);
        num = Math.fma(num, t, 9.999999999999998702752e-01f);
        num = Math.fma(num, t, 0.0f);
        float den = Math.fma(5.875095403124574342950e-03f, t, 1.546476374983906719538e-01f);
        den = Math.fma(den, t, 9.864942958519418960339e-01f);
        den = Math.fma(den, t, 2.453006071784736363091e+00f);
        den = Math.fma(den, t, 2.612677543073109236779e+00f);
        den = Math.fma(den, t, 1.0f);
        return Math.fma(ef, 0.693147182464599609375f, num / den);
    }
}
