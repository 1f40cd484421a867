package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;


/**
 * What diffusers' k-diffusion ports (Heun, LMS, KDPM2, KDPM2 ancestral) share: the Euler-style
 * timestep grid, σ interpolated from the training table or respaced (Karras, exponential), the
 * model-output conversion to x₀, and the input scaling x/√(σ²+1).
 *
 * <p>Config fields: the beta schedule fields, {@code timestep_spacing} (default linspace),
 * {@code steps_offset}, {@code prediction_type}, {@code use_karras_sigmas} /
 * {@code use_exponential_sigmas}. {@code use_beta_sigmas} is refused: its quantiles come from
 * scipy in the reference and have no fixture here.
 */
abstract class KDiffusionScheduler extends SigmaScheduler {

    final PredictionType predictionType;
    final TimestepSpacing spacing;
    final int stepsOffset;
    final SigmaSpacing sigmaSpacing;

    KDiffusionScheduler(SchedulerConfig config, NoiseSchedule schedule, String className,
            PredictionType... predictions) {
        super(config, schedule);
        this.predictionType = PredictionType.fromConfig(config, className, predictions);
        this.spacing = TimestepSpacing.fromConfig(config, "linspace");
        this.stepsOffset = config.integer("steps_offset", 0);
        this.sigmaSpacing = SigmaSpacing.fromConfig(config, false);
        if (sigmaSpacing == SigmaSpacing.BETA) {
            throw config.error("use_beta_sigmas", "false for " + className + " (beta sigmas are not supported here)",
                    true);
        }
    }

    /** diffusers' defaults for Heun and KDPM2 (0.00085 … 0.012, linear). */
    static NoiseSchedule kdpmBetas(SchedulerConfig config) {
        return NoiseSchedule.fromConfig(config, true, 0.00085, 0.012);
    }

    /**
     * The {@code n} timesteps (float64, as numpy leaves them after respacing) and {@code n + 1} float32
     * σ (the last 0) before any interleaving.
     *
     * @param roundRespaced whether respaced (Karras) timesteps are rounded, as KDPM2 does
     */
    Base base(int n, boolean roundRespaced) {
        float[] ts = EulerDiscreteScheduler.eulerTimesteps(spacing, schedule.numTrainTimesteps(), n, stepsOffset);
        double[] t64 = new double[ts.length];
        for (int i = 0; i < ts.length; i++) {
            t64[i] = ts[i];
        }
        double[] levels = schedule.interpolateSigmas(t64);
        if (sigmaSpacing != SigmaSpacing.TABLE) {
            levels = sigmaSpacing.levels(levels[levels.length - 1], levels[0], levels.length);
            for (int i = 0; i < levels.length; i++) {
                double t = schedule.sigmaToTimestep(levels[i]);
                t64[i] = roundRespaced && sigmaSpacing == SigmaSpacing.KARRAS ? Math.rint(t) : t;
            }
        }
        float[] sig = new float[levels.length + 1];
        for (int i = 0; i < levels.length; i++) {
            sig[i] = (float) levels[i];
        }
        return new Base(t64, sig);
    }

    record Base(double[] timesteps, float[] sigmas) {
    }

    /** {@code cat([x[:1], x[1:].repeat_interleave(2), x[-1:]])} or, with {@code dropLast}, of x[1:-1]. */
    static float[] interleave(float[] x, boolean dropLast) {
        int mid = dropLast ? x.length - 2 : x.length - 1;
        float[] out = new float[2 + 2 * mid];
        out[0] = x[0];
        for (int i = 0; i < mid; i++) {
            out[1 + 2 * i] = x[1 + i];
            out[2 + 2 * i] = x[1 + i];
        }
        out[out.length - 1] = x[x.length - 1];
        return out;
    }

    @Override
    public float initNoiseSigma() {
        float max = maxSigma();
        if (spacing == TimestepSpacing.LINSPACE || spacing == TimestepSpacing.TRAILING) {
            return max;
        }
        return (float) Math.sqrt(max * max + 1.0f);
    }

    /** x / √(σ² + 1). */
    static float[] scaled(float[] x, float sigma) {
        float denom = (float) Math.sqrt(sigma * sigma + 1.0f);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] / denom;
        }
        return x;
    }

    /** x₀ from the model output at noise level {@code sigma} for the configured prediction type. */
    float[] predictOriginal(float[] m, float[] x, float sigma) {
        float[] x0 = new float[x.length];
        switch (predictionType) {
            case EPSILON -> {
                for (int k = 0; k < x.length; k++) {
                    x0[k] = x[k] - sigma * m[k];
                }
            }
            case V_PREDICTION -> {
                float var = sigma * sigma + 1.0f;
                float cOut = -sigma / (float) Math.sqrt(var);
                for (int k = 0; k < x.length; k++) {
                    x0[k] = m[k] * cOut + x[k] / var;
                }
            }
            case SAMPLE -> System.arraycopy(m, 0, x0, 0, m.length);
        }
        return x0;
    }


    /** {@code x + n·σ} at the σ of {@code timestep} (Euler's {@code add_noise}). */
    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(className() + ".addNoise", "original", original, "noise", noise);
        float sigma = sigmas[noiseIndex(timestep)];
        float[] x = Latents.values(original);
        float[] n = Latents.values(noise);
        for (int k = 0; k < x.length; k++) {
            x[k] = x[k] + n[k] * sigma;
        }
        return Latents.like(x, original);
    }
}
