package dev.pagoda.diffusion.scheduler;

import dev.pagoda.nn.ConfigException;
import java.util.List;
import org.apache.commons.math3.analysis.interpolation.LinearInterpolator;
import org.apache.commons.math3.analysis.polynomials.PolynomialSplineFunction;

/**
 * The training noise schedule every scheduler starts from: betas, ᾱ_t ({@code alphas_cumprod}) and
 * the noise levels σ_t = √((1−ᾱ_t)/ᾱ_t), computed as diffusers computes them with torch in float32.
 *
 * <p>Matching the reference to the last bit here makes every derived table exact: torch's float32
 * {@code linspace} (an AVX2 kernel that fills 8 lanes from an FMA-computed base and counts the second
 * half down from the end), {@code 1 - betas} in float32, and {@code cumprod}, which torch's CPU kernel
 * accumulates in double and rounds per element.
 */
final class NoiseSchedule {

    private static final List<String> BETA_SCHEDULES = List.of("linear", "scaled_linear", "squaredcos_cap_v2");

    private final float[] betas;
    private final float[] alphasCumprod;
    private final float[] sigmas;
    private final float[] logSigmas;
    private PolynomialSplineFunction sigmaOfT;

    private NoiseSchedule(float[] betas, float[] alphasCumprod) {
        this.betas = betas;
        this.alphasCumprod = alphasCumprod;
        int n = alphasCumprod.length;
        this.sigmas = new float[n];
        this.logSigmas = new float[n];
        for (int t = 0; t < n; t++) {
            float a = alphasCumprod[t];
            sigmas[t] = (float) Math.sqrt((1.0f - a) / a);
            logSigmas[t] = (float) Math.log(sigmas[t]);
        }
    }

    /**
     * Reads {@code num_train_timesteps}, {@code beta_start}, {@code beta_end}, {@code beta_schedule},
     * {@code trained_betas} and {@code rescale_betas_zero_snr}.
     *
     * @param clampTerminalAlpha whether a zero-SNR schedule sets ᾱ_T to 2⁻²⁴ (the sigma-based
     *     schedulers do, so that σ_T stays finite; DDIM keeps ᾱ_T = 0)
     */
    /**
     * Every released diffusers model trains on 1000 timesteps; the bound keeps a hostile config from
     * sizing the schedule's arrays (found by the fuzz suite: 2^31 - 1 ran the heap out).
     */
    static final int MAX_TRAIN_TIMESTEPS = 1_000_000;

    static NoiseSchedule fromConfig(SchedulerConfig config, boolean clampTerminalAlpha) {
        return fromConfig(config, clampTerminalAlpha, 0.0001, 0.02);
    }

    /**
     * As {@link #fromConfig(SchedulerConfig, boolean)}, for the classes whose {@code beta_start} and
     * {@code beta_end} defaults differ (Heun, KDPM2: 0.00085 and 0.012).
     */
    static NoiseSchedule fromConfig(SchedulerConfig config, boolean clampTerminalAlpha, double defaultBetaStart,
            double defaultBetaEnd) {
        int n = config.integer("num_train_timesteps", 1000);
        if (n < 2 || n > MAX_TRAIN_TIMESTEPS) {
            throw config.error("num_train_timesteps", "an integer in [2, " + MAX_TRAIN_TIMESTEPS + "]", n);
        }
        double[] trained = config.optionalNumbers("trained_betas");
        float[] betas;
        if (trained != null) {
            if (trained.length != n) {
                throw config.error("trained_betas", n + " values (num_train_timesteps)", trained.length + " values");
            }
            betas = new float[n];
            for (int i = 0; i < n; i++) {
                betas[i] = (float) trained[i];
            }
        } else {
            double start = config.number("beta_start", defaultBetaStart);
            double end = config.number("beta_end", defaultBetaEnd);
            String schedule = config.choice("beta_schedule", "linear", BETA_SCHEDULES);
            betas = switch (schedule) {
                case "linear" -> torchLinspace((float) start, (float) end, n);
                case "scaled_linear" -> {
                    float[] b = torchLinspace((float) Math.sqrt(start), (float) Math.sqrt(end), n);
                    for (int i = 0; i < n; i++) {
                        b[i] = b[i] * b[i];
                    }
                    yield b;
                }
                default -> cosineBetas(n);
            };
        }
        boolean rescale = config.bool("rescale_betas_zero_snr", false);
        if (rescale) {
            betas = rescaleZeroTerminalSnr(betas);
        }
        float[] ac = cumprodOfOneMinus(betas);
        if (rescale && clampTerminalAlpha) {
            ac[n - 1] = 0x1p-24f;
        }
        for (int t = 0; t < n; t++) {
            if (!(ac[t] > 0 && ac[t] <= 1) && !(rescale && t == n - 1)) {
                throw new ConfigException("scheduler config " + config.source()
                        + ": the beta schedule gives alphas_cumprod[" + t + "] = " + ac[t]
                        + "; betas must lie in [0, 1)");
            }
        }
        return new NoiseSchedule(betas, ac);
    }

    int numTrainTimesteps() {
        return alphasCumprod.length;
    }

    float[] betas() {
        return betas.clone();
    }

    float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** σ_t in float32, index t = training timestep (ascending). */
    float sigma(int t) {
        return sigmas[t];
    }

    float[] sigmas() {
        return sigmas.clone();
    }

    /**
     * {@code np.interp(t, arange(N), sigmas)}: linear interpolation of the float32 σ table in double,
     * clamped to the end values outside [0, N−1] as numpy clamps.
     */
    double[] interpolateSigmas(double[] t) {
        if (sigmaOfT == null) {
            double[] x = new double[sigmas.length];
            double[] y = new double[sigmas.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = i;
                y[i] = sigmas[i];
            }
            sigmaOfT = new LinearInterpolator().interpolate(x, y);
        }
        double last = sigmas.length - 1;
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            double v = t[i];
            if (Double.isNaN(v)) {
                throw new IllegalArgumentException("cannot interpolate sigma at timestep NaN");
            }
            out[i] = v <= 0 ? sigmas[0] : v >= last ? sigmas[sigmas.length - 1] : sigmaOfT.value(v);
        }
        return out;
    }

    /**
     * diffusers' {@code _sigma_to_t}: the fractional training timestep whose σ is {@code sigma},
     * interpolating linearly in log σ between neighbouring table entries (log σ in float32 as
     * {@code np.log} of the float32 table gives it).
     */
    double sigmaToTimestep(double sigma) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        int low = lowIndex(logSigma);
        int high = low + 1;
        float lo = logSigmas[low];
        float hi = logSigmas[high];
        // numpy subtracts the two float32 table entries in float32; the rest is float64.
        float span = lo - hi;
        double w = (lo - logSigma) / span;
        w = Math.min(Math.max(w, 0), 1);
        return (1 - w) * low + w * high;
    }

    /**
     * {@code _sigma_to_t} on a float32 level (custom sigmas): numpy then keeps log σ, the distances and
     * the weight in float32 (value-based casting of a float32 scalar), and only the final blend of the
     * two integer indices is float64.
     */
    double sigmaToTimestep(float sigma) {
        float logSigma = (float) Math.log(Math.max(sigma, 1e-10f));
        int low = lowIndex(logSigma); // a float difference has the sign of the exact one
        int high = low + 1;
        float lo = logSigmas[low];
        float w = (lo - logSigma) / (lo - logSigmas[high]);
        w = Math.min(Math.max(w, 0f), 1f);
        return (double) (1 - w) * low + (double) w * high;
    }

    /**
     * {@code _sigma_to_t}'s lower table index: where the running count of {@code logSigma >= log_sigmas[i]}
     * first peaks, at most the second-to-last entry.
     */
    private int lowIndex(double logSigma) {
        int count = 0;
        int best = 0;
        int low = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                count++;
            }
            if (count > best) {
                best = count;
                low = i;
            }
        }
        return Math.min(low, logSigmas.length - 2);
    }

    /** log σ_t as float32 (diffusers' {@code log_sigmas}). */
    float logSigma(int t) {
        return logSigmas[t];
    }

    /**
     * {@code torch.linspace(start, end, n, dtype=float32)} on the AVX2 CPU kernel: 16 values per
     * iteration as two 8-lane vectors, each lane {@code base + k*step}, the base of a vector from the
     * lower end ({@code start + step*i}) or, past the middle, from the upper end
     * ({@code end - step*(n-1-i)}); the remainder one value at a time with the same two formulas.
     */
    static float[] torchLinspace(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (n - 1);
        int halfway = n / 2;
        int vectorEnd = n / 16 * 16;
        for (int i = 0; i < vectorEnd; i += 8) {
            float base = i < halfway ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (n - i - 1), end);
            out[i] = base;
            for (int k = 1; k < 8; k++) {
                out[i + k] = Math.fma((float) k, step, base);
            }
        }
        for (int i = vectorEnd; i < n; i++) {
            out[i] = i < halfway ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (n - i - 1), end);
        }
        return out;
    }

    /** {@code torch.cumprod(1.0 - betas)}: differences in float32, the product accumulated in double. */
    private static float[] cumprodOfOneMinus(float[] betas) {
        float[] ac = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1.0f - betas[i];
            ac[i] = (float) acc;
        }
        return ac;
    }

    /** Glide's cosine schedule ({@code betas_for_alpha_bar}), in double then rounded to float32. */
    private static float[] cosineBetas(int n) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            b[i] = (float) Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
        }
        return b;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** Algorithm 1 of "Common Diffusion Noise Schedules and Sample Steps are Flawed", in float32. */
    private static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        float[] ac = cumprodOfOneMinus(betas);
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (float) Math.sqrt(ac[i]);
        }
        float s0 = s[0];
        float sT = s[n - 1];
        float scale = s0 / (s0 - sT);
        float[] bar = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (s[i] - sT) * scale;
            bar[i] = v * v;
        }
        float[] out = new float[n];
        out[0] = 1.0f - bar[0];
        for (int i = 1; i < n; i++) {
            out[i] = 1.0f - bar[i] / bar[i - 1];
        }
        return out;
    }
}
