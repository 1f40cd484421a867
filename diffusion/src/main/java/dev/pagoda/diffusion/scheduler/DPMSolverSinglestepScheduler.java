package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The single-step DPM-Solver of Lu et al. (diffusers' {@code DPMSolverSinglestepScheduler}). Unlike
 * the multistep variant, a k-th order update spans k schedule entries: the steps are grouped by an
 * order list (1, 2, 3, 1, 2, 3, …), the first step of a group remembers its sample, and the group's
 * last step jumps from that sample to the group's end using the model outputs evaluated at the
 * intermediate entries; the intermediate results only serve as model inputs.
 *
 * <p>Config fields: {@code algorithm_type} (dpmsolver++, sde-dpmsolver++, dpmsolver; deis maps to
 * dpmsolver++), {@code solver_order} (1, 2, 3), {@code solver_type} (midpoint, heun; logrho, bh1, bh2
 * map to midpoint), {@code lower_order_final}, {@code final_sigmas_type} (zero, sigma_min; dpmsolver
 * needs sigma_min), {@code use_karras_sigmas}, {@code lambda_min_clipped}, {@code prediction_type}
 * (epsilon, sample, v_prediction), {@code variance_type} (null, learned, learned_range),
 * {@code thresholding} (dpmsolver++ and sde-dpmsolver++ only) and the beta schedule fields. The class
 * has no {@code timestep_spacing}: timesteps are always linspace. As in diffusers,
 * {@code lower_order_final} is switched on for good when a step count is not a multiple of the order
 * or when the final σ is zero. diffusers 0.31 fails for exponential or beta sigmas, for
 * thresholding with dpmsolver, and for third-order steps of sde-dpmsolver++, so those are refused.
 */
public final class DPMSolverSinglestepScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "DPMSolverSinglestepScheduler";

    private enum Algorithm { DPMSOLVER_PP, SDE_DPMSOLVER_PP, DPMSOLVER }

    private final Algorithm algorithm;
    private final int solverOrder;
    private final boolean heun;
    private boolean lowerOrderFinal;
    private final boolean finalSigmaZero;
    private final boolean karras;
    private final double lambdaMinClipped;
    private final PredictionType predictionType;
    private final boolean learnedVariance;
    private final DynamicThresholding thresholding;

    /** Converted model outputs (x₀ or ε) of the last {@code solverOrder} steps, oldest first. */
    private final float[][] modelOutputs;
    private int[] orderList;
    /** The sample at the start of the current single-step group. */
    private float[] groupSample;

    public DPMSolverSinglestepScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config.with("rescale_betas_zero_snr", false), true));
        String a = config.choice("algorithm_type", "dpmsolver++",
                List.of("dpmsolver++", "sde-dpmsolver++", "dpmsolver", "deis"));
        this.algorithm = switch (a) {
            case "sde-dpmsolver++" -> Algorithm.SDE_DPMSOLVER_PP;
            case "dpmsolver" -> Algorithm.DPMSOLVER;
            default -> Algorithm.DPMSOLVER_PP;
        };
        this.solverOrder = config.integer("solver_order", 2);
        if (solverOrder < 1 || solverOrder > 3) {
            throw config.error("solver_order", "1, 2 or 3", solverOrder);
        }
        if (solverOrder == 3 && algorithm == Algorithm.SDE_DPMSOLVER_PP) {
            throw config.error("solver_order", "1 or 2 for algorithm_type \"sde-dpmsolver++\" (diffusers 0.31 has "
                    + "no third-order single-step SDE update)", solverOrder);
        }
        String solverType = config.choice("solver_type", "midpoint", List.of("midpoint", "heun", "logrho", "bh1", "bh2"));
        this.heun = solverType.equals("heun");
        this.lowerOrderFinal = config.bool("lower_order_final", false);
        this.finalSigmaZero = config.choice("final_sigmas_type", "zero", List.of("zero", "sigma_min")).equals("zero");
        if (finalSigmaZero && algorithm == Algorithm.DPMSOLVER) {
            throw config.error("final_sigmas_type", "\"sigma_min\" for algorithm_type \"dpmsolver\"", "zero");
        }
        SigmaSpacing sigmaSpacing = SigmaSpacing.fromConfig(config, false);
        if (sigmaSpacing == SigmaSpacing.EXPONENTIAL || sigmaSpacing == SigmaSpacing.BETA) {
            String key = sigmaSpacing == SigmaSpacing.BETA ? "use_beta_sigmas" : "use_exponential_sigmas";
            throw config.error(key, "false for " + CLASS_NAME + " (diffusers 0.31 cannot build that schedule)", true);
        }
        this.karras = sigmaSpacing == SigmaSpacing.KARRAS;
        this.lambdaMinClipped = config.number("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        String variance = config.optionalString("variance_type");
        if (variance != null && !variance.equals("learned") && !variance.equals("learned_range")) {
            throw config.error("variance_type", "null, \"learned\" or \"learned_range\"", variance);
        }
        this.learnedVariance = variance != null;
        this.thresholding = DynamicThresholding.fromConfig(config);
        if (thresholding != null && algorithm == Algorithm.DPMSOLVER) {
            throw config.error("thresholding", "false for algorithm_type \"dpmsolver\" (diffusers 0.31 fails there)",
                    true);
        }
        // The class has no spacing option (diffusers ignores the field), but a value no scheduler knows is an error.
        TimestepSpacing.fromConfig(config, "linspace");
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
        int lastTimestep = numTrain - DPMSolverMultistepScheduler.clippedIndex(schedule, lambdaMinClipped);
        double[] ts = DPMSolverMultistepScheduler.multistepGrid(TimestepSpacing.LINSPACE, lastTimestep, numTrain, n, 0);
        double[] levels;
        if (karras) {
            levels = SigmaSpacing.KARRAS.levels(schedule.sigma(0), schedule.sigma(numTrain - 1), n);
            for (int i = 0; i < n; i++) {
                ts[i] = Math.rint(schedule.sigmaToTimestep(levels[i]));
            }
        } else {
            levels = schedule.interpolateSigmas(ts);
        }
        float[] timesteps = new float[n];
        float[] sig = new float[n + 1];
        for (int i = 0; i < n; i++) {
            timesteps[i] = (float) (long) ts[i];
            sig[i] = (float) levels[i];
        }
        sig[n] = finalSigmaZero ? 0.0f : schedule.sigma(0);
        install(timesteps, sig);
        for (int i = 0; i < solverOrder; i++) {
            modelOutputs[i] = null;
        }
        groupSample = null;
        // diffusers writes these switches into its config, so they outlive this schedule.
        if (!lowerOrderFinal && (n % solverOrder != 0 || finalSigmaZero)) {
            lowerOrderFinal = true;
        }
        orderList = orderList(n, solverOrder, lowerOrderFinal);
    }

    /** {@code get_order_list}: the solver order of each step. */
    static int[] orderList(int steps, int order, boolean lowerOrderFinal) {
        List<Integer> o = new ArrayList<>();
        if (order == 1) {
            o.addAll(Collections.nCopies(steps, 1));
        } else if (!lowerOrderFinal) {
            for (int g = 0; g < steps / order; g++) {
                for (int k = 1; k <= order; k++) {
                    o.add(k);
                }
            }
        } else if (order == 2) {
            int groups = steps % 2 == 0 ? steps / 2 - 1 : steps / 2;
            for (int g = 0; g < groups; g++) {
                o.addAll(List.of(1, 2));
            }
            o.addAll(steps % 2 == 0 ? List.of(1, 1) : List.of(1));
        } else {
            int groups = steps % 3 == 0 ? steps / 3 - 1 : steps / 3;
            for (int g = 0; g < groups; g++) {
                o.addAll(List.of(1, 2, 3));
            }
            o.addAll(switch (steps % 3) {
                case 0 -> List.of(1, 2, 1);
                case 1 -> List.of(1);
                default -> List.of(1, 2);
            });
        }
        int[] out = new int[o.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = o.get(i);
        }
        return out;
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
        Tensor out = learnedVariance && predictionType == PredictionType.EPSILON
                ? modelOutput.narrow(1, 0, 3) : modelOutput;
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", out, "sample", sample);
        int i = currentStep(timestep);
        if (i >= orderList.length) {
            throw new IllegalStateException(CLASS_NAME + ": step " + i + " is past the order list of "
                    + orderList.length + " steps");
        }
        float[] x = Latents.values(sample);
        float[] converted = convert(Latents.values(out), x, sample.shape(), sigmas[i]);
        for (int k = 0; k < solverOrder - 1; k++) {
            modelOutputs[k] = modelOutputs[k + 1];
        }
        int top = solverOrder - 1;
        modelOutputs[top] = converted;
        float[] z = algorithm == Algorithm.SDE_DPMSOLVER_PP
                ? Latents.values(Latents.requireNoise(noise, CLASS_NAME + " (sde-dpmsolver++)").next(out.shape()))
                : null;
        int order = orderList[i];
        while (modelOutputs[solverOrder - order] == null) {
            order--;
        }
        if (order == 1) {
            groupSample = x;
        }
        float[] prev = switch (order) {
            case 1 -> firstOrder(sigmas[i + 1], sigmas[i], groupSample, converted, z);
            case 2 -> secondOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], groupSample,
                    modelOutputs[top], modelOutputs[top - 1], z);
            default -> thirdOrder(sigmas[i + 1], sigmas[i], sigmas[i - 1], sigmas[i - 2], groupSample,
                    modelOutputs[top], modelOutputs[top - 1], modelOutputs[top - 2]);
        };
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), null);
    }

    /** {@code convert_model_output}: x₀ for DPM-Solver++ (with thresholding), ε for DPM-Solver. */
    private float[] convert(float[] m, float[] x, int[] shape, float sigma) {
        float alpha = DpmSolverUpdates.alpha(sigma);
        float sigmaT = sigma * alpha;
        float[] r = new float[m.length];
        if (algorithm != Algorithm.DPMSOLVER) {
            switch (predictionType) {
                case EPSILON -> {
                    for (int k = 0; k < m.length; k++) {
                        r[k] = (x[k] - sigmaT * m[k]) / alpha;
                    }
                }
                case SAMPLE -> System.arraycopy(m, 0, r, 0, m.length);
                case V_PREDICTION -> {
                    for (int k = 0; k < m.length; k++) {
                        r[k] = alpha * x[k] - sigmaT * m[k];
                    }
                }
            }
            return thresholding == null ? r : thresholding.apply(r, shape);
        }
        switch (predictionType) {
            case EPSILON -> System.arraycopy(m, 0, r, 0, m.length);
            case SAMPLE -> {
                for (int k = 0; k < m.length; k++) {
                    r[k] = (x[k] - alpha * m[k]) / sigmaT;
                }
            }
            case V_PREDICTION -> {
                for (int k = 0; k < m.length; k++) {
                    r[k] = alpha * m[k] + sigmaT * x[k];
                }
            }
        }
        return r;
    }

    /** λ = log α − log σ_t with torch's float32 log, as the reference evaluates it on 0-d tensors. */
    private static float lambda(float sigma) {
        float a = DpmSolverUpdates.alpha(sigma);
        return TorchFloatMath.log(a) - TorchFloatMath.log(sigma * a);
    }

    private static float exp(float v) {
        return TorchFloatMath.exp(v);
    }

    /** {@code dpm_solver_first_order_update}. */
    private float[] firstOrder(float sigmaNext, float sigmaCur, float[] x, float[] m, float[] z) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float aS = DpmSolverUpdates.alpha(sigmaCur);
        float sS = sigmaCur * aS;
        float h = lambda(sigmaNext) - lambda(sigmaCur);
        float[] out = new float[x.length];
        switch (algorithm) {
            case DPMSOLVER_PP -> {
                float c1 = sT / sS;
                float c2 = aT * (exp(-h) - 1.0f);
                for (int k = 0; k < x.length; k++) {
                    out[k] = c1 * x[k] - c2 * m[k];
                }
            }
            case DPMSOLVER -> {
                float c1 = aT / aS;
                float c2 = sT * (exp(h) - 1.0f);
                for (int k = 0; k < x.length; k++) {
                    out[k] = c1 * x[k] - c2 * m[k];
                }
            }
            case SDE_DPMSOLVER_PP -> {
                float e2 = exp(-2.0f * h);
                float c1 = sT / sS * exp(-h);
                float c2 = aT * (1.0f - e2);
                float cz = sT * (float) Math.sqrt(1.0f - e2);
                for (int k = 0; k < x.length; k++) {
                    out[k] = (c1 * x[k] + c2 * m[k]) + cz * z[k];
                }
            }
        }
        return out;
    }

    /**
     * {@code singlestep_dpm_solver_second_order_update}: from the group's sample at σ_{s1} to σ_t with
     * m0 (at σ_{s0}) and m1 (at σ_{s1}).
     */
    private float[] secondOrder(float sigmaNext, float sigmaS0, float sigmaS1, float[] x, float[] m0, float[] m1,
            float[] z) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float aS1 = DpmSolverUpdates.alpha(sigmaS1);
        float sS1 = sigmaS1 * aS1;
        float lT = lambda(sigmaNext);
        float h = lT - lambda(sigmaS1);
        float h0 = lambda(sigmaS0) - lambda(sigmaS1);
        float r0 = h0 / h;
        float d1Scale = 1.0f / r0;
        float[] out = new float[x.length];
        switch (algorithm) {
            case DPMSOLVER_PP -> {
                float c1 = sT / sS1;
                float c2 = aT * (exp(-h) - 1.0f);
                float c3 = heun ? aT * ((exp(-h) - 1.0f) / h + 1.0f) : 0.5f * c2;
                for (int k = 0; k < x.length; k++) {
                    float d1 = d1Scale * (m0[k] - m1[k]);
                    float base = c1 * x[k] - c2 * m1[k];
                    out[k] = heun ? base + c3 * d1 : base - c3 * d1;
                }
            }
            case DPMSOLVER -> {
                float c1 = aT / aS1;
                float c2 = sT * (exp(h) - 1.0f);
                float c3 = heun ? sT * ((exp(h) - 1.0f) / h - 1.0f) : 0.5f * c2;
                for (int k = 0; k < x.length; k++) {
                    float d1 = d1Scale * (m0[k] - m1[k]);
                    out[k] = (c1 * x[k] - c2 * m1[k]) - c3 * d1;
                }
            }
            case SDE_DPMSOLVER_PP -> {
                float e2 = exp(-2.0f * h);
                float c1 = sT / sS1 * exp(-h);
                float c2 = aT * (1.0f - e2);
                float c3 = heun ? aT * ((1.0f - e2) / (-2.0f * h) + 1.0f) : 0.5f * c2;
                float cz = sT * (float) Math.sqrt(1.0f - e2);
                for (int k = 0; k < x.length; k++) {
                    float d1 = d1Scale * (m0[k] - m1[k]);
                    out[k] = ((c1 * x[k] + c2 * m1[k]) + c3 * d1) + cz * z[k];
                }
            }
        }
        return out;
    }

    /**
     * {@code singlestep_dpm_solver_third_order_update}: from the group's sample at σ_{s2} to σ_t with
     * m0, m1, m2 evaluated at σ_{s0}, σ_{s1}, σ_{s2}.
     */
    private float[] thirdOrder(float sigmaNext, float sigmaS0, float sigmaS1, float sigmaS2, float[] x,
            float[] m0, float[] m1, float[] m2) {
        float aT = DpmSolverUpdates.alpha(sigmaNext);
        float sT = sigmaNext * aT;
        float aS2 = DpmSolverUpdates.alpha(sigmaS2);
        float sS2 = sigmaS2 * aS2;
        float lS2 = lambda(sigmaS2);
        float h = lambda(sigmaNext) - lS2;
        float h0 = lambda(sigmaS0) - lS2;
        float h1 = lambda(sigmaS1) - lS2;
        float r0 = h0 / h;
        float r1 = h1 / h;
        float s10 = 1.0f / r1;
        float s11 = 1.0f / r0;
        float rDiff = r0 - r1;
        boolean pp = algorithm != Algorithm.DPMSOLVER;
        float e = pp ? exp(-h) : exp(h);
        float c1 = pp ? sT / sS2 : aT / DpmSolverUpdates.alpha(sigmaS2);
        float c2 = pp ? aT * (e - 1.0f) : sT * (e - 1.0f);
        float c3 = pp ? aT * ((e - 1.0f) / h + 1.0f) : sT * ((e - 1.0f) / h - 1.0f);
        float c4 = pp ? aT * (((e - 1.0f) + h) / (h * h) - 0.5f) : sT * (((e - 1.0f) - h) / (h * h) - 0.5f);
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            float d10 = s10 * (m1[k] - m2[k]);
            float d11 = s11 * (m0[k] - m2[k]);
            float base = c1 * x[k] - c2 * m2[k];
            if (!heun) {
                out[k] = pp ? base + c3 * d11 : base - c3 * d11;
            } else {
                float d1 = (r0 * d10 - r1 * d11) / rDiff;
                float d2 = 2.0f * (d11 - d10) / rDiff;
                out[k] = pp ? (base + c3 * d1) - c4 * d2 : (base - c3 * d1) - c4 * d2;
            }
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
