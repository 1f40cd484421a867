package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;

/**
 * DEIS (Zhang and Chen 2022, "Fast Sampling of Diffusion Models with Exponential Integrator";
 * diffusers' {@code DEISMultistepScheduler}): a multistep exponential integrator of the ε-prediction
 * ODE in ρ = σ/α. Each step converts the model output to ε (through x₀, so thresholding can act), and
 * orders 2 and 3 integrate the Lagrange polynomial through the ε of the last steps in log ρ exactly
 * ("logrho"); the first step, and the last ones with {@code lower_order_final}, are DDIM steps.
 *
 * <p>Config fields: {@code solver_order} (default 2, at most 16; above 3 the third-order rule is used,
 * as in diffusers), {@code algorithm_type} (deis; dpmsolver and dpmsolver++ map to deis as in diffusers),
 * {@code solver_type} (logrho; midpoint, heun, bh1, bh2 map to it), {@code lower_order_final} (below 15
 * steps), {@code prediction_type} (epsilon, sample, v_prediction), {@code thresholding} with
 * {@code dynamic_thresholding_ratio} and {@code sample_max_value}, {@code use_karras_sigmas},
 * {@code timestep_spacing} (default linspace), {@code steps_offset} and the beta schedule fields.
 * diffusers 0.31 fails in {@code set_timesteps} for {@code use_exponential_sigmas} and
 * {@code use_beta_sigmas} with this class, so they are refused.
 */
public final class DEISMultistepScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "DEISMultistepScheduler";
    private static final int MAX_ORDER = 16;

    private final int solverOrder;
    private final boolean lowerOrderFinal;
    private final PredictionType predictionType;
    private final DynamicThresholding thresholding;
    private final boolean karras;
    private final TimestepSpacing spacing;
    private final int stepsOffset;

    /** ε of the last {@code solverOrder} steps, oldest first. */
    private final float[][] modelOutputs;
    private int lowerOrderNums;

    public DEISMultistepScheduler(SchedulerConfig config) {
        // This class has no zero-terminal-SNR option; diffusers ignores the field here.
        super(config, NoiseSchedule.fromConfig(config.with("rescale_betas_zero_snr", false), true));
        this.solverOrder = config.integer("solver_order", 2);
        // diffusers takes any order and uses the third-order rule above 3; the bound keeps a hostile
        // config from sizing the history.
        if (solverOrder < 1 || solverOrder > MAX_ORDER) {
            throw config.error("solver_order", "an integer in [1, " + MAX_ORDER + "]", solverOrder);
        }
        config.choice("algorithm_type", "deis", List.of("deis", "dpmsolver", "dpmsolver++"));
        config.choice("solver_type", "logrho", List.of("logrho", "midpoint", "heun", "bh1", "bh2"));
        this.lowerOrderFinal = config.bool("lower_order_final", true);
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.thresholding = DynamicThresholding.fromConfig(config);
        SigmaSpacing sigmaSpacing = SigmaSpacing.fromConfig(config, false);
        if (sigmaSpacing == SigmaSpacing.EXPONENTIAL || sigmaSpacing == SigmaSpacing.BETA) {
            String key = sigmaSpacing == SigmaSpacing.BETA ? "use_beta_sigmas" : "use_exponential_sigmas";
            throw config.error(key, "false for " + CLASS_NAME + " (diffusers 0.31 cannot build that schedule)", true);
        }
        this.karras = sigmaSpacing == SigmaSpacing.KARRAS;
        this.spacing = TimestepSpacing.fromConfig(config, "linspace");
        this.stepsOffset = config.integer("steps_offset", 0);
        this.modelOutputs = new float[solverOrder][];
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        int n = numInferenceSteps;
        int numTrain = schedule.numTrainTimesteps();
        double[] ts = DPMSolverMultistepScheduler.multistepGrid(spacing, numTrain, numTrain, n, stepsOffset);
        int m = ts.length;
        double[] levels;
        float last;
        if (karras) {
            levels = SigmaSpacing.KARRAS.levels(schedule.sigma(0), schedule.sigma(numTrain - 1), n);
            m = n;
            ts = new double[n];
            for (int i = 0; i < n; i++) {
                ts[i] = Math.rint(schedule.sigmaToTimestep(levels[i]));
            }
            // DEIS repeats the last Karras level instead of ending at zero, so its last step is the identity.
            last = (float) levels[n - 1];
        } else {
            levels = schedule.interpolateSigmas(ts);
            last = schedule.sigma(0);
        }
        float[] timesteps = new float[m];
        float[] sig = new float[m + 1];
        for (int i = 0; i < m; i++) {
            timesteps[i] = (float) (long) ts[i];
            sig[i] = (float) levels[i];
        }
        sig[m] = last;
        install(timesteps, sig);
        for (int i = 0; i < solverOrder; i++) {
            modelOutputs[i] = null;
        }
        lowerOrderNums = 0;
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        return sample;
    }

    @Override
    int missingTimestep(float timestep) {
        return timesteps.length - 1;
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        int len = timesteps.length;
        boolean finalLower = i == len - 1 && lowerOrderFinal && len < 15;
        boolean secondLower = i == len - 2 && lowerOrderFinal && len < 15;
        float[] x = Latents.values(sample);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, sample.shape(), sigmas[i]);
        float[] eps = toEpsilon(x0, x, sigmas[i]);
        for (int k = 0; k < solverOrder - 1; k++) {
            modelOutputs[k] = modelOutputs[k + 1];
        }
        int top = solverOrder - 1;
        modelOutputs[top] = eps;
        float[] prev;
        if (solverOrder == 1 || lowerOrderNums < 1 || finalLower) {
            prev = firstOrder(sigmas[i + 1], sigmas[i], x, eps);
        } else if (solverOrder == 2 || lowerOrderNums < 2 || secondLower) {
            prev = secondOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], x, modelOutputs[top], modelOutputs[top - 1]);
        } else {
            prev = thirdOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], sigmas[i - 2], x,
                    modelOutputs[top], modelOutputs[top - 1], modelOutputs[top - 2]);
        }
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), null);
    }

    private float[] predictOriginal(float[] m, float[] x, int[] shape, float sigma) {
        float alpha = DpmSolverUpdates.alpha(sigma);
        float sigmaT = sigma * alpha;
        float[] x0 = new float[m.length];
        switch (predictionType) {
            case EPSILON -> {
                for (int k = 0; k < m.length; k++) {
                    x0[k] = (x[k] - sigmaT * m[k]) / alpha;
                }
            }
            case SAMPLE -> System.arraycopy(m, 0, x0, 0, m.length);
            case V_PREDICTION -> {
                for (int k = 0; k < m.length; k++) {
                    x0[k] = alpha * x[k] - sigmaT * m[k];
                }
            }
        }
        return thresholding == null ? x0 : thresholding.apply(x0, shape);
    }

    /** ε = (x − α·x₀)/σ_t: the reference goes through x₀ even for an ε model, so we do too. */
    private static float[] toEpsilon(float[] x0, float[] x, float sigma) {
        float alpha = DpmSolverUpdates.alpha(sigma);
        float sigmaT = sigma * alpha;
        float[] eps = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            eps[k] = (x[k] - alpha * x0[k]) / sigmaT;
        }
        return eps;
    }

    /** {@code np.log}: the reference's log-ρ integrals call numpy on the float32 tensors. */
    private static float log(float v) {
        return NumpyFloatMath.log(v);
    }

    /** {@code deis_first_order_update} (DDIM in ε form): x ← (α_t/α_s)·x − σ_t(e^h − 1)·ε. */
    private static float[] firstOrder(float sigmaNext, float sigmaCur, float[] x, float[] eps) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float aS = DpmSolverUpdates.alpha(sigmaCur);
        float sS = sigmaCur * aS;
        // torch's float32 log/exp here; the log-ρ integrals below go through numpy's float32 log instead.
        float h = (TorchFloatMath.log(aT) - TorchFloatMath.log(sT)) - (TorchFloatMath.log(aS) - TorchFloatMath.log(sS));
        float c1 = aT / aS;
        float c2 = sT * (TorchFloatMath.exp(h) - 1.0f);
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = c1 * x[k] - c2 * eps[k];
        }
        return out;
    }

    /** ρ = σ_t/α_t of a noise level. */
    private static float rho(float sigma) {
        float a = DpmSolverUpdates.alpha(sigma);
        return sigma * a / a;
    }

    /** ∫ of the linear Lagrange basis through (log b, log c) in log ρ, at ρ = t, up to a constant. */
    private static float ind2(float t, float b, float c) {
        float num = (-log(c) + log(t)) - 1.0f;
        return t * num / (log(b) - log(c));
    }

    /** {@code multistep_deis_second_order_update}: m0 is this step's ε, m1 the previous one. */
    private static float[] secondOrder(float sigmaNext, float sigmaS0, float sigmaS1, float[] x,
            float[] m0, float[] m1) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float aS0 = DpmSolverUpdates.alpha(sigmaS0);
        float rT = rho(sigmaNext);
        float r0 = rho(sigmaS0);
        float r1 = rho(sigmaS1);
        float c1 = ind2(rT, r0, r1) - ind2(r0, r0, r1);
        float c2 = ind2(rT, r1, r0) - ind2(r0, r1, r0);
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = aT * ((x[k] / aS0 + c1 * m0[k]) + c2 * m1[k]);
        }
        return out;
    }

    /** ∫ of the quadratic Lagrange basis through (log b; log c, log d) in log ρ, at ρ = t. */
    private static float ind3(float t, float b, float c, float d) {
        float lt = log(t);
        float lc = log(c);
        float ld = log(d);
        float lb = log(b);
        float inner = ((((lc * ((ld - lt) + 1.0f) - ld * lt) + ld) + lt * lt) - 2.0f * lt) + 2.0f;
        float num = t * inner;
        float den = (lb - lc) * (lb - ld);
        return num / den;
    }

    /** {@code multistep_deis_third_order_update}: ε of this step and the two before. */
    private static float[] thirdOrder(float sigmaNext, float sigmaS0, float sigmaS1, float sigmaS2, float[] x,
            float[] m0, float[] m1, float[] m2) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float aS0 = DpmSolverUpdates.alpha(sigmaS0);
        float rT = rho(sigmaNext);
        float r0 = rho(sigmaS0);
        float r1 = rho(sigmaS1);
        float r2 = rho(sigmaS2);
        float c1 = ind3(rT, r0, r1, r2) - ind3(r0, r0, r1, r2);
        float c2 = ind3(rT, r1, r2, r0) - ind3(r0, r1, r2, r0);
        float c3 = ind3(rT, r2, r0, r1) - ind3(r0, r2, r0, r1);
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = aT * (((x[k] / aS0 + c1 * m0[k]) + c2 * m1[k]) + c3 * m2[k]);
        }
        return out;
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(CLASS_NAME + ".addNoise", "original", original, "noise", noise);
        float sigma = sigmas[noiseIndex(timestep)];
        return Latents.like(DpmSolverUpdates.addNoise(Latents.values(original), Latents.values(noise), sigma),
                original);
    }
}
