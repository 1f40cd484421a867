package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;

/**
 * The multistep DPM-Solver++ of Lu et al. (diffusers' {@code DPMSolverMultistepScheduler}, the
 * PixArt-Σ default). It integrates the data-prediction ODE in λ = log(α/σ): the model output is
 * converted to an estimate x₀ at every step, and orders 2 and 3 extrapolate through the x₀ of the
 * previous steps, so the scheduler keeps a history and the steps must be taken in order.
 *
 * <p>Config fields: {@code algorithm_type} (dpmsolver++, sde-dpmsolver++), {@code solver_order}
 * (1, 2, 3), {@code solver_type} (midpoint, heun), {@code lower_order_final}, {@code euler_at_final},
 * {@code final_sigmas_type} (zero, sigma_min), {@code use_karras_sigmas} /
 * {@code use_exponential_sigmas} / {@code use_beta_sigmas} / {@code use_lu_lambdas},
 * {@code lambda_min_clipped}, {@code timestep_spacing}, {@code steps_offset}, {@code prediction_type}
 * (epsilon, sample, v_prediction), {@code variance_type} (null, learned, learned_range),
 * {@code thresholding} with {@code dynamic_thresholding_ratio} and {@code sample_max_value}, and the
 * beta schedule fields. Timesteps are integers, as in the reference.
 */
public final class DPMSolverMultistepScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "DPMSolverMultistepScheduler";

    private final boolean sde;
    private final int solverOrder;
    private final boolean heun;
    private final boolean lowerOrderFinal;
    private final boolean eulerAtFinal;
    private final boolean finalSigmaZero;
    private final PredictionType predictionType;
    private final boolean learnedVariance;
    private final DynamicThresholding thresholding;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final SigmaSpacing sigmaSpacing;
    private final double lambdaMinClipped;
    private final boolean cosineSchedule;

    /** x₀ of the last {@code solverOrder} steps, oldest first. */
    private final float[][] modelOutputs;
    private int lowerOrderNums;

    public DPMSolverMultistepScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, true));
        // diffusers maps "deis" (a DEIS config value) to dpmsolver++.
        String algorithm = config.choice("algorithm_type", "dpmsolver++", List.of("dpmsolver++", "sde-dpmsolver++", "deis"));
        this.sde = algorithm.equals("sde-dpmsolver++");
        for (String flow : List.of("use_flow_sigmas", "use_dynamic_shifting")) {
            if (config.bool(flow, false)) {
                throw config.error(flow, "false (flow-matching schedules are not supported)", true);
            }
        }
        this.solverOrder = config.integer("solver_order", 2);
        if (solverOrder < 1 || solverOrder > 3) {
            throw config.error("solver_order", "1, 2 or 3", solverOrder);
        }
        String solverType = config.choice("solver_type", "midpoint", List.of("midpoint", "heun", "logrho", "bh1", "bh2"));
        // diffusers maps the UniPC/DEIS solver types it does not implement to midpoint.
        this.heun = solverType.equals("heun");
        this.lowerOrderFinal = config.bool("lower_order_final", true);
        this.eulerAtFinal = config.bool("euler_at_final", false);
        this.finalSigmaZero = config.choice("final_sigmas_type", "zero", List.of("zero", "sigma_min")).equals("zero");
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        String variance = config.optionalString("variance_type");
        if (variance != null && !variance.equals("learned") && !variance.equals("learned_range")) {
            throw config.error("variance_type", "null, \"learned\" or \"learned_range\"", variance);
        }
        this.learnedVariance = variance != null;
        this.thresholding = DynamicThresholding.fromConfig(config);
        this.spacing = TimestepSpacing.fromConfig(config, "linspace");
        this.stepsOffset = config.integer("steps_offset", 0);
        this.sigmaSpacing = SigmaSpacing.fromConfig(config, true);
        this.lambdaMinClipped = config.number("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        this.cosineSchedule = "squaredcos_cap_v2".equals(config.optionalString("beta_schedule"));
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
        int lastTimestep = numTrain - clippedIndex(schedule, lambdaMinClipped);
        double[] ts = multistepGrid(spacing, lastTimestep, numTrain, n, stepsOffset);
        int m = ts.length;
        double[] levels;
        if (sigmaSpacing == SigmaSpacing.TABLE) {
            levels = schedule.interpolateSigmas(ts);
        } else {
            // The k-diffusion spacings run between the ends of the training table (flipped: σ_max first).
            double lo = sigmaSpacing == SigmaSpacing.LU_LAMBDAS ? schedule.logSigma(0) : schedule.sigma(0);
            double hi = sigmaSpacing == SigmaSpacing.LU_LAMBDAS
                    ? schedule.logSigma(numTrain - 1) : schedule.sigma(numTrain - 1);
            levels = sigmaSpacing.levels(lo, hi, n);
            m = n;
            ts = new double[n];
            boolean round = sigmaSpacing == SigmaSpacing.KARRAS || sigmaSpacing == SigmaSpacing.LU_LAMBDAS;
            for (int i = 0; i < n; i++) {
                double t = schedule.sigmaToTimestep(levels[i]);
                ts[i] = round && !cosineSchedule ? Math.rint(t) : t;
            }
        }
        installSchedule(ts, levels, m);
    }

    /**
     * diffusers' {@code set_timesteps(timesteps=...)}: the given timesteps as int64, their σ from the
     * table, the final level as configured.
     *
     * @throws IllegalArgumentException with Karras, Lu-lambda, exponential or beta sigmas (diffusers
     *     refuses them too), or for an empty, negative or non-finite list
     */
    @Override
    public void setTimesteps(float[] custom) {
        if (sigmaSpacing != SigmaSpacing.TABLE) {
            throw new IllegalArgumentException(CLASS_NAME + ": cannot use custom timesteps with " + sigmaSpacing
                    + " sigmas (diffusers refuses them with use_karras/lu_lambdas/exponential/beta_sigmas too)");
        }
        if (custom == null || custom.length == 0) {
            throw new IllegalArgumentException(CLASS_NAME + ": custom timesteps must not be empty");
        }
        double[] ts = new double[custom.length];
        for (int i = 0; i < ts.length; i++) {
            if (!Float.isFinite(custom[i]) || custom[i] < 0) {
                throw new IllegalArgumentException(CLASS_NAME + ": custom timesteps must be finite and >= 0, got "
                        + java.util.Arrays.toString(custom));
            }
            ts[i] = (long) custom[i]; // np.array(timesteps).astype(np.int64)
        }
        installSchedule(ts, schedule.interpolateSigmas(ts), ts.length);
    }

    private void installSchedule(double[] ts, double[] levels, int m) {
        float[] timesteps = new float[m];
        float[] sig = new float[m + 1];
        for (int i = 0; i < m; i++) {
            // torch casts the timesteps to int64 (truncation) after numpy's rounding.
            timesteps[i] = (float) (long) ts[i];
            sig[i] = (float) levels[i];
        }
        sig[m] = finalSigmaZero ? 0.0f : schedule.sigma(0);
        install(timesteps, sig);
        for (int i = 0; i < solverOrder; i++) {
            modelOutputs[i] = null;
        }
        lowerOrderNums = 0;
    }

    /**
     * The integer grid of the multistep solvers (DPM-Solver++, UniPC, DEIS, single-step DPM-Solver):
     * {@code linspace(0, last−1, n+1).round()} reversed without its final entry, the leading
     * {@code arange(n+1)·(last // (n+1))} likewise plus {@code steps_offset}, or the trailing
     * {@code round(arange(last, 0, −N/n)) − 1}.
     */
    static double[] multistepGrid(TimestepSpacing spacing, int lastTimestep, int numTrain, int n, int stepsOffset) {
        return switch (spacing) {
            case LINSPACE -> {
                double[] l = NumpyRange.linspace(0, lastTimestep - 1, n + 1);
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Math.rint(l[n - i]);
                }
                yield out;
            }
            case LEADING -> {
                int ratio = lastTimestep / (n + 1);
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (double) (n - i) * ratio + stepsOffset;
                }
                yield out;
            }
            case TRAILING -> {
                double[] a = NumpyRange.arange(lastTimestep, 0, -((double) numTrain / n));
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.rint(a[i]) - 1;
                }
                yield a;
            }
        };
    }

    /** {@code searchsorted(flip(λ_t), lambda_min_clipped)}: how many λ_t at the end are clipped away. */
    static int clippedIndex(NoiseSchedule schedule, double lambdaMinClipped) {
        if (lambdaMinClipped == Double.NEGATIVE_INFINITY) {
            return 0;
        }
        int n = schedule.numTrainTimesteps();
        int count = 0;
        for (int k = 0; k < n; k++) {
            float ac = schedule.alphaCumprod(n - 1 - k);
            float lambda = (float) Math.log((float) Math.sqrt(ac)) - (float) Math.log((float) Math.sqrt(1.0f - ac));
            if (lambda < lambdaMinClipped) {
                count++;
            }
        }
        return count;
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    /** DPM-Solver takes the sample as it is. */
    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        return sample;
    }

    @Override
    int missingTimestep(float timestep) {
        // diffusers falls back to the last index for a timestep outside the schedule.
        return timesteps.length - 1;
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        // A model that also predicts its variance returns it in the channels after the first three.
        Tensor out = learnedVariance && predictionType == PredictionType.EPSILON
                ? modelOutput.narrow(1, 0, 3) : modelOutput;
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", out, "sample", sample);
        int i = currentStep(timestep);
        int len = timesteps.length;
        boolean finalLower = i == len - 1 && (eulerAtFinal || (lowerOrderFinal && len < 15) || finalSigmaZero);
        boolean secondLower = i == len - 2 && lowerOrderFinal && len < 15;

        float[] x = Latents.values(sample);
        float[] x0 = convertModelOutput(Latents.values(out), x, sample.shape(), sigmas[i]);
        for (int k = 0; k < solverOrder - 1; k++) {
            modelOutputs[k] = modelOutputs[k + 1];
        }
        modelOutputs[solverOrder - 1] = x0;
        float[] z = sde ? Latents.values(Latents.requireNoise(noise, CLASS_NAME + " (sde-dpmsolver++)")
                .next(out.shape())) : null;

        float[] prev;
        if (solverOrder == 1 || lowerOrderNums < 1 || finalLower) {
            prev = DpmSolverUpdates.firstOrder(sigmas[i + 1], sigmas[i], x, x0, z);
        } else if (solverOrder == 2 || lowerOrderNums < 2 || secondLower) {
            prev = DpmSolverUpdates.secondOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], x,
                    modelOutputs[solverOrder - 1], modelOutputs[solverOrder - 2], heun, z);
        } else {
            prev = DpmSolverUpdates.thirdOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], sigmas[i - 2], x,
                    modelOutputs[2], modelOutputs[1], modelOutputs[0], z);
        }
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0.clone(), sample));
    }

    /** DPM-Solver++ integrates x₀: {@code convert_model_output} for the configured prediction type. */
    private float[] convertModelOutput(float[] m, float[] x, int[] shape, float sigma) {
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

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(CLASS_NAME + ".addNoise", "original", original, "noise", noise);
        float sigma = sigmas[noiseIndex(timestep)];
        float alpha = DpmSolverUpdates.alpha(sigma);
        float sigmaT = sigma * alpha;
        float[] x = Latents.values(original);
        float[] n = Latents.values(noise);
        for (int k = 0; k < x.length; k++) {
            x[k] = alpha * x[k] + sigmaT * n[k];
        }
        return Latents.like(x, original);
    }
}
