package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;

/**
 * Euler's method on the probability-flow ODE in σ (k-diffusion's sampler; diffusers'
 * {@code EulerDiscreteScheduler}, the SDXL default). With x₀ the model's estimate of the clean
 * sample, one step is {@code x ← x + (x − x₀)/σ · (σ_next − σ)}.
 *
 * <p>Config fields: {@code timestep_spacing} (linspace, leading, trailing), {@code steps_offset},
 * {@code prediction_type} (epsilon, v_prediction, sample), {@code interpolation_type} (linear),
 * {@code use_karras_sigmas} / {@code use_exponential_sigmas} / {@code use_beta_sigmas} with
 * {@code sigma_min}/{@code sigma_max}, {@code final_sigmas_type} (zero, sigma_min),
 * {@code timestep_type} (discrete, continuous), and the beta schedule fields of
 * {@link NoiseSchedule}. Timesteps and σ are computed in double as numpy does, then rounded to
 * float32 as the reference stores them.
 */
public final class EulerDiscreteScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "EulerDiscreteScheduler";

    /**
     * The stochastic "churn" of Karras et al. (step arguments {@code s_churn}, {@code s_tmin},
     * {@code s_tmax}, {@code s_noise}); off by default, as diffusers' pipelines leave it.
     */
    public record Churn(double sChurn, double sTmin, double sTmax, double sNoise) {
        public static final Churn NONE = new Churn(0.0, 0.0, Double.POSITIVE_INFINITY, 1.0);
    }

    private final PredictionType predictionType;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final SigmaSpacing sigmaSpacing;
    private final Double sigmaMinOverride;
    private final Double sigmaMaxOverride;
    private final boolean finalSigmaZero;
    private final boolean continuousTimesteps;
    private Churn churn = Churn.NONE;

    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, true));
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION, PredictionType.SAMPLE);
        this.spacing = TimestepSpacing.fromConfig(config, "linspace");
        this.stepsOffset = config.integer("steps_offset", 0);
        config.choice("interpolation_type", "linear", List.of("linear"));
        this.sigmaSpacing = SigmaSpacing.fromConfig(config, false);
        this.sigmaMinOverride = config.optionalNumber("sigma_min");
        this.sigmaMaxOverride = config.optionalNumber("sigma_max");
        this.finalSigmaZero = config.choice("final_sigmas_type", "zero", List.of("zero", "sigma_min")).equals("zero");
        boolean continuous = config.choice("timestep_type", "discrete", List.of("discrete", "continuous"))
                .equals("continuous");
        this.continuousTimesteps = continuous && predictionType == PredictionType.V_PREDICTION;
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    /** Sets the churn used by the following steps ({@link Churn#NONE} to switch it off). */
    public void setChurn(Churn churn) {
        this.churn = churn;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        float[] ts = eulerTimesteps(spacing, schedule.numTrainTimesteps(), numInferenceSteps, stepsOffset);
        int n = ts.length;
        double[] t64 = new double[n];
        for (int i = 0; i < n; i++) {
            t64[i] = ts[i];
        }
        double[] levels = schedule.interpolateSigmas(t64);
        if (sigmaSpacing != SigmaSpacing.TABLE) {
            double sigmaMin = sigmaMinOverride != null ? sigmaMinOverride : levels[n - 1];
            double sigmaMax = sigmaMaxOverride != null ? sigmaMaxOverride : levels[0];
            levels = sigmaSpacing.levels(sigmaMin, sigmaMax, n);
            for (int i = 0; i < n; i++) {
                ts[i] = (float) schedule.sigmaToTimestep(levels[i]);
            }
        }
        float[] sig = new float[n + 1];
        for (int i = 0; i < n; i++) {
            sig[i] = (float) levels[i];
        }
        sig[n] = finalSigmaZero ? 0.0f : schedule.sigma(0);
        if (continuousTimesteps) {
            for (int i = 0; i < n; i++) {
                ts[i] = 0.25f * (float) Math.log(sig[i]);
            }
        }
        install(ts, sig);
    }

    /**
     * diffusers' {@code set_timesteps(timesteps=...)}: the σ of each given timestep from the table
     * (linear interpolation), then the final level as configured.
     *
     * @throws IllegalArgumentException with Karras/exponential/beta sigmas or continuous v-prediction
     *     timesteps, which diffusers refuses too, or for an empty or non-finite list
     */
    @Override
    public void setTimesteps(float[] timesteps) {
        if (sigmaSpacing != SigmaSpacing.TABLE) {
            throw new IllegalArgumentException(CLASS_NAME + ": cannot set custom timesteps with " + sigmaSpacing
                    + " sigmas (diffusers refuses them with use_karras/exponential/beta_sigmas too)");
        }
        if (continuousTimesteps) {
            throw new IllegalArgumentException(CLASS_NAME + ": cannot set custom timesteps with timestep_type"
                    + " continuous and prediction_type v_prediction (as in diffusers)");
        }
        int n = requireCustom("timesteps", timesteps, 1);
        double[] t64 = new double[n];
        for (int i = 0; i < n; i++) {
            t64[i] = timesteps[i];
        }
        double[] levels = schedule.interpolateSigmas(t64);
        float[] sig = new float[n + 1];
        for (int i = 0; i < n; i++) {
            sig[i] = (float) levels[i];
        }
        sig[n] = finalSigmaZero ? 0.0f : schedule.sigma(0);
        install(timesteps.clone(), sig);
    }

    /**
     * diffusers' {@code set_timesteps(sigmas=...)}: the levels as given (float32, the last one the final
     * level), each step's timestep from {@code _sigma_to_t} on the float32 level.
     */
    @Override
    public void setSigmas(float[] sigmas) {
        int n = requireCustom("sigmas", sigmas, 2) - 1;
        float[] ts = new float[n];
        for (int i = 0; i < n; i++) {
            ts[i] = continuousTimesteps ? 0.25f * (float) Math.log(sigmas[i])
                    : (float) schedule.sigmaToTimestep(sigmas[i]);
        }
        install(ts, sigmas.clone());
    }

    private static int requireCustom(String what, float[] v, int min) {
        if (v == null || v.length < min) {
            throw new IllegalArgumentException(CLASS_NAME + ": custom " + what + " need at least " + min + " value"
                    + (min == 1 ? "" : "s") + ", got " + (v == null ? "none" : v.length));
        }
        for (float x : v) {
            if (!Float.isFinite(x) || x < 0) {
                throw new IllegalArgumentException(CLASS_NAME + ": custom " + what + " must be finite and >= 0, got "
                        + java.util.Arrays.toString(v));
            }
        }
        return v.length;
    }

    /**
     * The float32 timesteps of the Euler schedulers: {@code linspace} in float32, or the integer
     * {@code leading} (plus {@code steps_offset}) and {@code trailing} (minus one) grids.
     */
    static float[] eulerTimesteps(TimestepSpacing spacing, int numTrain, int n, int stepsOffset) {
        double[] v = switch (spacing) {
            case LINSPACE -> reversed(NumpyRange.linspace(0, numTrain - 1, n));
            case LEADING -> {
                int ratio = numTrain / n;
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (double) i * ratio;
                }
                yield reversed(a);
            }
            case TRAILING -> {
                double[] a = NumpyRange.arange(numTrain, 0, -((double) numTrain / n));
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.rint(a[i]);
                }
                yield a;
            }
        };
        float[] ts = toFloat(v);
        for (int i = 0; i < ts.length; i++) {
            if (spacing == TimestepSpacing.LEADING) {
                ts[i] += stepsOffset;
            } else if (spacing == TimestepSpacing.TRAILING) {
                ts[i] -= 1;
            }
        }
        return ts;
    }

    @Override
    public float initNoiseSigma() {
        float max = maxSigma();
        if (spacing == TimestepSpacing.LINSPACE || spacing == TimestepSpacing.TRAILING) {
            return max;
        }
        return (float) Math.sqrt(max * max + 1.0f);
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        float sigma = sigmas[currentStep(timestep)];
        float denom = (float) Math.sqrt(sigma * sigma + 1.0f);
        float[] x = Latents.values(sample);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] / denom;
        }
        return Latents.like(x, sample);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        float sigma = sigmas[i];
        double gamma = churn.sTmin() <= sigma && sigma <= churn.sTmax()
                ? Math.min(churn.sChurn() / (sigmas.length - 1), Math.sqrt(2) - 1) : 0.0;
        float sigmaHat = sigma * (float) (gamma + 1);
        float[] x = Latents.values(sample);
        float[] m = Latents.values(modelOutput);
        if (gamma > 0) {
            float[] eps = Latents.values(Latents.requireNoise(noise, CLASS_NAME + " with churn")
                    .next(modelOutput.shape()));
            float sNoise = (float) churn.sNoise();
            float spread = (float) Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
            for (int k = 0; k < x.length; k++) {
                x[k] = x[k] + (eps[k] * sNoise) * spread;
            }
        }
        float[] x0 = new float[x.length];
        switch (predictionType) {
            case EPSILON -> {
                for (int k = 0; k < x.length; k++) {
                    x0[k] = x[k] - sigmaHat * m[k];
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
        float dt = sigmas[i + 1] - sigmaHat;
        float[] prev = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            float derivative = (x[k] - x0[k]) / sigmaHat;
            prev[k] = x[k] + derivative * dt;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(CLASS_NAME + ".addNoise", "original", original, "noise", noise);
        float sigma = sigmas[noiseIndex(timestep)];
        float[] x = Latents.values(original);
        float[] n = Latents.values(noise);
        for (int k = 0; k < x.length; k++) {
            x[k] = x[k] + n[k] * sigma;
        }
        return Latents.like(x, original);
    }
}
