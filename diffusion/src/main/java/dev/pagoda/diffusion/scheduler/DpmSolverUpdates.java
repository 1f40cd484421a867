package dev.pagoda.diffusion.scheduler;

/**
 * The DPM-Solver++ update rules (first, second and third order; ODE and SDE variants) on float
 * arrays. Coefficients are float32 scalars computed in the reference's order, and each element is
 * combined in the order torch evaluates the tensor expression, so results match to float32 rounding.
 *
 * <p>With α_t = 1/√(σ²+1), σ_t = σ·α_t, λ = log α_t − log σ_t and h = λ_next − λ_cur, the first-order
 * step is {@code x ← (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x₀}. A final σ of zero gives λ = +∞ and the step
 * returns x₀ exactly, as in the reference.
 */
final class DpmSolverUpdates {

    private DpmSolverUpdates() {
    }

    /** {@code add_noise} of the λ-based solvers: α·x + σ·α·ε at noise level {@code sigma}. */
    static float[] addNoise(float[] x, float[] n, float sigma) {
        float alpha = alpha(sigma);
        float sigmaT = sigma * alpha;
        for (int k = 0; k < x.length; k++) {
            x[k] = alpha * x[k] + sigmaT * n[k];
        }
        return x;
    }

    /** α_t = 1/√(σ² + 1) in float32. */
    static float alpha(float sigma) {
        return 1.0f / (float) Math.sqrt(sigma * sigma + 1.0f);
    }

    private static float lambda(float sigma) {
        float a = alpha(sigma);
        return (float) Math.log(a) - (float) Math.log(sigma * a);
    }

    private static float exp(float v) {
        return (float) Math.exp(v);
    }

    /** {@code dpm_solver_first_order_update}; {@code z} is the SDE noise or null for the ODE. */
    static float[] firstOrder(float sigmaNext, float sigmaCur, float[] x, float[] x0, float[] z) {
        float aT = alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float sS = sigmaCur * alpha(sigmaCur);
        float h = lambda(sigmaNext) - lambda(sigmaCur);
        float[] out = new float[x.length];
        if (z == null) {
            float c1 = sT / sS;
            float c2 = aT * (exp(-h) - 1.0f);
            for (int k = 0; k < x.length; k++) {
                out[k] = c1 * x[k] - c2 * x0[k];
            }
        } else {
            float c1 = sT / sS * exp(-h);
            float c2 = aT * (1.0f - exp(-2.0f * h));
            float cz = sT * (float) Math.sqrt(1.0f - exp(-2.0f * h));
            for (int k = 0; k < x.length; k++) {
                out[k] = (c1 * x[k] + c2 * x0[k]) + cz * z[k];
            }
        }
        return out;
    }

    /**
     * {@code multistep_dpm_solver_second_order_update}: {@code m0} is this step's x₀, {@code m1} the
     * previous one; midpoint or Heun correction.
     */
    static float[] secondOrder(float sigmaNext, float sigmaS0, float sigmaS1, float[] x, float[] m0, float[] m1,
            boolean heun, float[] z) {
        float aT = alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float sS0 = sigmaS0 * alpha(sigmaS0);
        float lT = lambda(sigmaNext);
        float lS0 = lambda(sigmaS0);
        float lS1 = lambda(sigmaS1);
        float h = lT - lS0;
        float h0 = lS0 - lS1;
        float r0 = h0 / h;
        float d1Scale = 1.0f / r0;
        float[] out = new float[x.length];
        if (z == null) {
            float c1 = sT / sS0;
            float c2 = aT * (exp(-h) - 1.0f);
            float c3 = heun ? aT * ((exp(-h) - 1.0f) / h + 1.0f) : 0.5f * c2;
            for (int k = 0; k < x.length; k++) {
                float d1 = d1Scale * (m0[k] - m1[k]);
                float base = c1 * x[k] - c2 * m0[k];
                out[k] = heun ? base + c3 * d1 : base - c3 * d1;
            }
        } else {
            float c1 = sT / sS0 * exp(-h);
            float c2 = aT * (1.0f - exp(-2.0f * h));
            float c3 = heun ? aT * ((1.0f - exp(-2.0f * h)) / (-2.0f * h) + 1.0f) : 0.5f * c2;
            float cz = sT * (float) Math.sqrt(1.0f - exp(-2.0f * h));
            for (int k = 0; k < x.length; k++) {
                float d1 = d1Scale * (m0[k] - m1[k]);
                out[k] = ((c1 * x[k] + c2 * m0[k]) + c3 * d1) + cz * z[k];
            }
        }
        return out;
    }

    /** {@code multistep_dpm_solver_third_order_update}: x₀ of this step and the two before. */
    static float[] thirdOrder(float sigmaNext, float sigmaS0, float sigmaS1, float sigmaS2, float[] x,
            float[] m0, float[] m1, float[] m2, float[] z) {
        float aT = alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float sS0 = sigmaS0 * alpha(sigmaS0);
        float lT = lambda(sigmaNext);
        float lS0 = lambda(sigmaS0);
        float lS1 = lambda(sigmaS1);
        float lS2 = lambda(sigmaS2);
        float h = lT - lS0;
        float h0 = lS0 - lS1;
        float h1 = lS1 - lS2;
        float r0 = h0 / h;
        float r1 = h1 / h;
        float s10 = 1.0f / r0;
        float s11 = 1.0f / r1;
        float d1Mix = r0 / (r0 + r1);
        float d2Scale = 1.0f / (r0 + r1);
        float[] out = new float[x.length];
        if (z == null) {
            float e = exp(-h);
            float c1 = sT / sS0;
            float c2 = aT * (e - 1.0f);
            float c3 = aT * ((e - 1.0f) / h + 1.0f);
            float c4 = aT * ((e - 1.0f + h) / (h * h) - 0.5f);
            for (int k = 0; k < x.length; k++) {
                float d10 = s10 * (m0[k] - m1[k]);
                float d11 = s11 * (m1[k] - m2[k]);
                float d1 = d10 + d1Mix * (d10 - d11);
                float d2 = d2Scale * (d10 - d11);
                out[k] = ((c1 * x[k] - c2 * m0[k]) + c3 * d1) - c4 * d2;
            }
        } else {
            float e2 = exp(-2.0f * h);
            float c1 = sT / sS0 * exp(-h);
            float c2 = aT * (1.0f - e2);
            float c3 = aT * ((1.0f - e2) / (-2.0f * h) + 1.0f);
            float twoH = 2.0f * h;
            float c4 = aT * ((1.0f - e2 - 2.0f * h) / (twoH * twoH) - 0.5f);
            float cz = sT * (float) Math.sqrt(1.0f - e2);
            for (int k = 0; k < x.length; k++) {
                float d10 = s10 * (m0[k] - m1[k]);
                float d11 = s11 * (m1[k] - m2[k]);
                float d1 = d10 + d1Mix * (d10 - d11);
                float d2 = d2Scale * (d10 - d11);
                out[k] = (((c1 * x[k] + c2 * m0[k]) + c3 * d1) + c4 * d2) + cz * z[k];
            }
        }
        return out;
    }
}
