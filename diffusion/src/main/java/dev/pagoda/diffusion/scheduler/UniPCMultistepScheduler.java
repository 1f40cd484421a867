package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * UniPC (Zhao et al. 2023; diffusers' {@code UniPCMultistepScheduler}): a unified predictor–corrector
 * in λ = log(α/σ). Each step first corrects the current sample with the model output just computed
 * (UniC, using the previous step's predictor inputs), then predicts the next sample (UniP) from the
 * last {@code solver_order} converted outputs. The coefficients ρ solve the small Vandermonde-type
 * systems R·ρ = b of the paper's B(h) variants bh1 (B(h) = h) and bh2 (B(h) = e^h − 1).
 *
 * <p>Config fields: {@code solver_order} (default 2), {@code solver_type} (bh1, bh2; midpoint, heun
 * and logrho map to bh2 as in diffusers), {@code predict_x0}, {@code lower_order_final},
 * {@code disable_corrector} (step indices), {@code prediction_type} (epsilon, sample, v_prediction),
 * {@code thresholding}, {@code use_karras_sigmas}, {@code final_sigmas_type} (zero, sigma_min),
 * {@code timestep_spacing} (default linspace), {@code steps_offset} and the beta schedule fields.
 * diffusers 0.31 fails on {@code use_exponential_sigmas} and {@code use_beta_sigmas} for this class
 * (it reads the step count before setting it), so they are refused here.
 */
public final class UniPCMultistepScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "UniPCMultistepScheduler";

    private final int solverOrder;
    private final boolean bh1;
    private final boolean predictX0;
    private final boolean lowerOrderFinal;
    private final Set<Integer> disableCorrector = new HashSet<>();
    private final PredictionType predictionType;
    private final DynamicThresholding thresholding;
    private final boolean karras;
    private final boolean finalSigmaZero;
    private final TimestepSpacing spacing;
    private final int stepsOffset;

    private final float[][] modelOutputs;
    private int lowerOrderNums;
    private float[] lastSample;
    private int thisOrder;

    public UniPCMultistepScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, true));
        this.solverOrder = config.integer("solver_order", 2);
        if (solverOrder < 1) {
            throw config.error("solver_order", "an integer >= 1", solverOrder);
        }
        String type = config.choice("solver_type", "bh2", List.of("bh1", "bh2", "midpoint", "heun", "logrho"));
        this.bh1 = type.equals("bh1");
        this.predictX0 = config.bool("predict_x0", true);
        this.lowerOrderFinal = config.bool("lower_order_final", true);
        double[] disabled = config.optionalNumbers("disable_corrector");
        if (disabled != null) {
            for (double d : disabled) {
                disableCorrector.add((int) d);
            }
        }
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.thresholding = DynamicThresholding.fromConfig(config);
        SigmaSpacing sigmaSpacing = SigmaSpacing.fromConfig(config, false);
        if (sigmaSpacing == SigmaSpacing.EXPONENTIAL || sigmaSpacing == SigmaSpacing.BETA) {
            String key = sigmaSpacing == SigmaSpacing.BETA ? "use_beta_sigmas" : "use_exponential_sigmas";
            throw config.error(key, "false for " + CLASS_NAME + " (diffusers 0.31 cannot build that schedule)", true);
        }
        this.karras = sigmaSpacing == SigmaSpacing.KARRAS;
        this.finalSigmaZero = config.choice("final_sigmas_type", "zero", List.of("zero", "sigma_min")).equals("zero");
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
            last = finalSigmaZero ? 0.0f : (float) levels[n - 1];
        } else {
            levels = schedule.interpolateSigmas(ts);
            last = finalSigmaZero ? 0.0f : schedule.sigma(0);
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
        lastSample = null;
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
        boolean useCorrector = i > 0 && !disableCorrector.contains(i - 1) && lastSample != null;
        float[] x = Latents.values(sample);
        float[] converted = convert(Latents.values(modelOutput), x, sample.shape(), sigmas[i]);
        if (useCorrector) {
            x = corrector(converted, lastSample, x, thisOrder, i);
        }
        for (int k = 0; k < solverOrder - 1; k++) {
            modelOutputs[k] = modelOutputs[k + 1];
        }
        modelOutputs[solverOrder - 1] = converted;
        int order = lowerOrderFinal ? Math.min(solverOrder, timesteps.length - i) : solverOrder;
        thisOrder = Math.min(order, lowerOrderNums + 1);
        lastSample = x;
        float[] prev = predictor(x, thisOrder, i);
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), predictX0 ? Latents.like(converted.clone(), sample)
                : null);
    }

    /** {@code convert_model_output}: x₀ (predict_x0) or ε. */
    private float[] convert(float[] m, float[] x, int[] shape, float sigma) {
        float alpha = DpmSolverUpdates.alpha(sigma);
        float sigmaT = sigma * alpha;
        float[] out = new float[m.length];
        if (predictX0) {
            switch (predictionType) {
                case EPSILON -> {
                    for (int k = 0; k < m.length; k++) {
                        out[k] = (x[k] - sigmaT * m[k]) / alpha;
                    }
                }
                case SAMPLE -> System.arraycopy(m, 0, out, 0, m.length);
                case V_PREDICTION -> {
                    for (int k = 0; k < m.length; k++) {
                        out[k] = alpha * x[k] - sigmaT * m[k];
                    }
                }
            }
            return thresholding == null ? out : thresholding.apply(out, shape);
        }
        switch (predictionType) {
            case EPSILON -> System.arraycopy(m, 0, out, 0, m.length);
            case SAMPLE -> {
                for (int k = 0; k < m.length; k++) {
                    out[k] = (x[k] - alpha * m[k]) / sigmaT;
                }
            }
            case V_PREDICTION -> {
                for (int k = 0; k < m.length; k++) {
                    out[k] = alpha * m[k] + sigmaT * x[k];
                }
            }
        }
        return out;
    }

    private static float lambda(float sigma) {
        float a = DpmSolverUpdates.alpha(sigma);
        return (float) Math.log(a) - (float) Math.log(sigma * a);
    }

    /** The B(h) coefficients: hh, φ₁ = e^{hh} − 1, B(h), and b_i = h_φ_k·i!/B(h) for i = 1..order. */
    private record Coefficients(float hPhi1, float bH, float[] b) {
    }

    private Coefficients coefficients(float h, int order) {
        float hh = predictX0 ? -h : h;
        float hPhi1 = (float) Math.expm1(hh);
        float hPhiK = hPhi1 / hh - 1;
        float bH = bh1 ? hh : (float) Math.expm1(hh);
        float[] b = new float[order];
        long factorial = 1;
        for (int i = 1; i <= order; i++) {
            b[i - 1] = hPhiK * factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1.0f / factorial;
        }
        return new Coefficients(hPhi1, bH, b);
    }

    /** {@code multistep_uni_p_bh_update} from step {@code i} to {@code i + 1}. */
    private float[] predictor(float[] x, int order, int i) {
        float sigmaNext = sigmas[i + 1];
        float sigmaCur = sigmas[i];
        float alphaT = DpmSolverUpdates.alpha(sigmaNext);
        float sigmaT = sigmaNext * alphaT;
        float alphaS0 = DpmSolverUpdates.alpha(sigmaCur);
        float sigmaS0 = sigmaCur * alphaS0;
        float lambdaS0 = lambda(sigmaCur);
        float h = lambda(sigmaNext) - lambdaS0;
        float[] m0 = modelOutputs[solverOrder - 1];
        int kCount = order - 1;
        float[] rks = new float[order];
        float[][] d1s = new float[kCount][];
        for (int j = 1; j < order; j++) {
            float[] mi = modelOutputs[solverOrder - 1 - j];
            float rk = (lambda(sigmas[i - j]) - lambdaS0) / h;
            rks[j - 1] = rk;
            d1s[j - 1] = difference(mi, m0, rk);
        }
        rks[order - 1] = 1.0f;
        Coefficients c = coefficients(h, order);
        float[] rhos = null;
        if (kCount > 0) {
            rhos = order == 2 ? new float[] {0.5f} : solve(rks, c.b(), order - 1);
        }
        float[] out = new float[x.length];
        float c1 = predictX0 ? sigmaT / sigmaS0 : alphaT / alphaS0;
        float c2 = (predictX0 ? alphaT : sigmaT) * c.hPhi1();
        float c3 = (predictX0 ? alphaT : sigmaT) * c.bH();
        for (int k = 0; k < x.length; k++) {
            float base = c1 * x[k] - c2 * m0[k];
            float res = 0;
            if (rhos != null) {
                for (int j = 0; j < kCount; j++) {
                    res += rhos[j] * d1s[j][k];
                }
            }
            // With no history the reference multiplies by the integer 0, so c3 may be infinite (bh1 at σ = 0).
            out[k] = rhos == null ? base - c3 * 0.0f : base - c3 * res;
        }
        return out;
    }

    /** {@code multistep_uni_c_bh_update}: corrects {@code xT} (the sample at step i) from step i − 1. */
    private float[] corrector(float[] modelT, float[] xPrev, float[] xT, int order, int i) {
        float sigmaCur = sigmas[i];
        float sigmaPrev = sigmas[i - 1];
        float alphaT = DpmSolverUpdates.alpha(sigmaCur);
        float sigmaT = sigmaCur * alphaT;
        float alphaS0 = DpmSolverUpdates.alpha(sigmaPrev);
        float sigmaS0 = sigmaPrev * alphaS0;
        float lambdaS0 = lambda(sigmaPrev);
        float h = lambda(sigmaCur) - lambdaS0;
        float[] m0 = modelOutputs[solverOrder - 1];
        int kCount = order - 1;
        float[] rks = new float[order];
        float[][] d1s = new float[kCount][];
        for (int j = 1; j < order; j++) {
            float[] mi = modelOutputs[solverOrder - 1 - j];
            float rk = (lambda(sigmas[i - (j + 1)]) - lambdaS0) / h;
            rks[j - 1] = rk;
            d1s[j - 1] = difference(mi, m0, rk);
        }
        rks[order - 1] = 1.0f;
        Coefficients c = coefficients(h, order);
        float[] rhos = order == 1 ? new float[] {0.5f} : solve(rks, c.b(), order);
        float c1 = predictX0 ? sigmaT / sigmaS0 : alphaT / alphaS0;
        float c2 = (predictX0 ? alphaT : sigmaT) * c.hPhi1();
        float c3 = (predictX0 ? alphaT : sigmaT) * c.bH();
        float rhoLast = rhos[rhos.length - 1];
        float[] out = new float[xT.length];
        for (int k = 0; k < xT.length; k++) {
            float base = c1 * xPrev[k] - c2 * m0[k];
            float res = 0;
            for (int j = 0; j < kCount; j++) {
                res += rhos[j] * d1s[j][k];
            }
            float d1t = modelT[k] - m0[k];
            out[k] = base - c3 * (res + rhoLast * d1t);
        }
        return out;
    }

    /** (mᵢ − m₀) / rₖ. */
    private static float[] difference(float[] mi, float[] m0, float rk) {
        float[] d = new float[m0.length];
        for (int k = 0; k < d.length; k++) {
            d[k] = (mi[k] - m0[k]) / rk;
        }
        return d;
    }

    /**
     * Solves the leading {@code n×n} block of R·ρ = b with R[p][q] = rks[q]^p (Gaussian elimination with
     * partial pivoting in double; the reference's float32 LU agrees to float32 rounding).
     */
    private static float[] solve(float[] rks, float[] b, int n) {
        double[][] a = new double[n][n + 1];
        for (int p = 0; p < n; p++) {
            for (int q = 0; q < n; q++) {
                a[p][q] = Math.pow(rks[q], p);
            }
            a[p][n] = b[p];
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] tmp = a[col];
            a[col] = a[pivot];
            a[pivot] = tmp;
            for (int r = col + 1; r < n; r++) {
                double f = a[r][col] / a[col][col];
                for (int q = col; q <= n; q++) {
                    a[r][q] -= f * a[col][q];
                }
            }
        }
        float[] x = new float[n];
        double[] xs = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = a[r][n];
            for (int q = r + 1; q < n; q++) {
                s -= a[r][q] * xs[q];
            }
            xs[r] = s / a[r][r];
            x[r] = (float) xs[r];
        }
        return x;
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
