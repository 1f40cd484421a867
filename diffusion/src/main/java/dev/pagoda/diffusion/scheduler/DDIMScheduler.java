package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.Arrays;

/**
 * Denoising diffusion implicit models (Song et al. 2020, eq. 12 and 16; diffusers'
 * {@code DDIMScheduler}). Works with ᾱ_t directly, indexed by the integer timestep:
 * <pre>
 * x₀   = (x − √(1−ᾱ_t)·ε) / √ᾱ_t
 * σ_t  = η·√((1−ᾱ_prev)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_prev))
 * prev = √ᾱ_prev·x₀ + √(1−ᾱ_prev−σ_t²)·ε + σ_t·z
 * </pre>
 * with ᾱ_prev taken {@code num_train_timesteps / num_inference_steps} steps earlier (or the final
 * ᾱ, 1 with {@code set_alpha_to_one}). η (default 0, deterministic) and
 * {@code use_clipped_model_output} are step arguments in diffusers and setters here; with η > 0
 * each step draws one noise tensor.
 *
 * <p>Config fields: the beta schedule fields, {@code timestep_spacing} (default leading),
 * {@code steps_offset}, {@code prediction_type}, {@code clip_sample} (default true) with
 * {@code clip_sample_range}, {@code set_alpha_to_one}, {@code thresholding}.
 */
public final class DDIMScheduler implements EtaScheduler {

    public static final String CLASS_NAME = "DDIMScheduler";

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final PredictionType predictionType;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final boolean clipSample;
    private final float clipSampleRange;
    private final DynamicThresholding thresholding;
    private final float finalAlphaCumprod;
    private float eta;
    private boolean useClippedModelOutput;

    private int numInferenceSteps;
    private float[] timesteps;
    private int beginIndex = -1;
    private int stepsTaken;

    public DDIMScheduler(SchedulerConfig config) {
        this.config = config;
        this.schedule = NoiseSchedule.fromConfig(config, false);
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.spacing = TimestepSpacing.fromConfig(config, "leading");
        this.stepsOffset = config.integer("steps_offset", 0);
        this.clipSample = config.bool("clip_sample", true);
        this.clipSampleRange = (float) config.number("clip_sample_range", 1.0);
        this.thresholding = DynamicThresholding.fromConfig(config);
        this.finalAlphaCumprod = config.bool("set_alpha_to_one", true) ? 1.0f : schedule.alphaCumprod(0);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    @Override
    public int numTrainTimesteps() {
        return schedule.numTrainTimesteps();
    }

    @Override
    public int order() {
        return 1;
    }

    /** η of the following steps: 0 is DDIM, 1 is DDPM-like ancestral sampling. */
    @Override
    public void setEta(float eta) {
        if (!(eta >= 0) || !Float.isFinite(eta)) {
            throw new IllegalArgumentException(CLASS_NAME + ".setEta: eta must be a finite number >= 0, got " + eta);
        }
        this.eta = eta;
    }

    /** Re-derive ε from the clipped x₀ (GLIDE), diffusers' {@code use_clipped_model_output}. */
    public void setUseClippedModelOutput(boolean use) {
        this.useClippedModelOutput = use;
    }

    @Override
    public void setTimesteps(int n) {
        int numTrain = schedule.numTrainTimesteps();
        if (n < 1) {
            throw new IllegalArgumentException(CLASS_NAME + ".setTimesteps: numInferenceSteps must be >= 1, got " + n);
        }
        if (n > numTrain) {
            throw new IllegalArgumentException(CLASS_NAME + ".setTimesteps: numInferenceSteps " + n
                    + " exceeds num_train_timesteps " + numTrain);
        }
        double[] ts = switch (spacing) {
            case LINSPACE -> {
                double[] l = NumpyRange.linspace(0, numTrain - 1, n);
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Math.rint(l[n - 1 - i]);
                }
                yield out;
            }
            case LEADING -> {
                int ratio = numTrain / n;
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (double) (n - 1 - i) * ratio + stepsOffset;
                }
                yield out;
            }
            case TRAILING -> {
                double[] a = NumpyRange.arange(numTrain, 0, -((double) numTrain / n));
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.rint(a[i]) - 1;
                }
                yield a;
            }
        };
        float[] out = new float[ts.length];
        for (int i = 0; i < ts.length; i++) {
            out[i] = (float) (long) ts[i];
        }
        this.numInferenceSteps = n;
        this.timesteps = out;
        this.beginIndex = -1;
        this.stepsTaken = 0;
    }

    @Override
    public float[] timesteps() {
        requireSchedule();
        return timesteps.clone();
    }

    /** √((1−ᾱ_t)/ᾱ_t) at each timestep, then at the final ᾱ (DDIM itself has no σ table). */
    @Override
    public float[] sigmas() {
        requireSchedule();
        float[] s = new float[timesteps.length + 1];
        for (int i = 0; i < timesteps.length; i++) {
            float a = schedule.alphaCumprod((int) timesteps[i]);
            s[i] = (float) Math.sqrt((1.0f - a) / a);
        }
        s[timesteps.length] = (float) Math.sqrt((1.0f - finalAlphaCumprod) / finalAlphaCumprod);
        return s;
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
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        requireSchedule();
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int t = trainTimestep(timestep);
        int prevT = t - schedule.numTrainTimesteps() / numInferenceSteps;
        float aT = schedule.alphaCumprod(t);
        float aPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
        float bT = 1.0f - aT;
        float sqrtA = (float) Math.sqrt(aT);
        float sqrtB = (float) Math.sqrt(bT);

        float[] x = Latents.values(sample);
        float[] m = Latents.values(modelOutput);
        int len = x.length;
        float[] x0 = new float[len];
        float[] eps = new float[len];
        for (int k = 0; k < len; k++) {
            switch (predictionType) {
                case EPSILON -> {
                    x0[k] = (x[k] - sqrtB * m[k]) / sqrtA;
                    eps[k] = m[k];
                }
                case SAMPLE -> {
                    x0[k] = m[k];
                    eps[k] = (x[k] - sqrtA * x0[k]) / sqrtB;
                }
                case V_PREDICTION -> {
                    x0[k] = sqrtA * x[k] - sqrtB * m[k];
                    eps[k] = sqrtA * m[k] + sqrtB * x[k];
                }
            }
        }
        if (thresholding != null) {
            thresholding.apply(x0, sample.shape());
        } else if (clipSample) {
            for (int k = 0; k < len; k++) {
                x0[k] = Math.min(Math.max(x0[k], -clipSampleRange), clipSampleRange);
            }
        }
        float bPrev = 1.0f - aPrev;
        float variance = (bPrev / bT) * (1.0f - aT / aPrev);
        float std = eta * (float) Math.sqrt(variance);
        if (useClippedModelOutput) {
            for (int k = 0; k < len; k++) {
                eps[k] = (x[k] - sqrtA * x0[k]) / sqrtB;
            }
        }
        float dirScale = (float) Math.sqrt(1.0f - aPrev - std * std);
        float sqrtAPrev = (float) Math.sqrt(aPrev);
        float[] prev = new float[len];
        for (int k = 0; k < len; k++) {
            prev[k] = sqrtAPrev * x0[k] + dirScale * eps[k];
        }
        if (eta > 0) {
            float[] z = Latents.values(Latents.requireNoise(noise, CLASS_NAME + " with eta > 0")
                    .next(modelOutput.shape()));
            for (int k = 0; k < len; k++) {
                prev[k] = prev[k] + std * z[k];
            }
        }
        stepsTaken++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(CLASS_NAME + ".addNoise", "original", original, "noise", noise);
        float a = schedule.alphaCumprod(trainTimestep(timestep));
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1.0f - a);
        float[] x = Latents.values(original);
        float[] n = Latents.values(noise);
        for (int k = 0; k < x.length; k++) {
            x[k] = sa * x[k] + sb * n[k];
        }
        return Latents.like(x, original);
    }

    /** Recorded for pipelines; DDIM indexes ᾱ by timestep value, so the numbers do not depend on it. */
    @Override
    public void setBeginIndex(int beginIndex) {
        requireSchedule();
        if (beginIndex < 0 || beginIndex >= timesteps.length) {
            throw new IllegalArgumentException(CLASS_NAME + ".setBeginIndex: " + beginIndex
                    + " is outside the schedule of " + timesteps.length + " timesteps");
        }
        this.beginIndex = beginIndex;
    }

    @Override
    public int beginIndex() {
        return beginIndex;
    }

    /** Steps taken since {@code setTimesteps}, counted from the begin index. */
    @Override
    public int stepIndex() {
        if (timesteps == null || (stepsTaken == 0 && beginIndex < 0)) {
            return -1;
        }
        return Math.max(beginIndex, 0) + stepsTaken;
    }

    private void requireSchedule() {
        if (timesteps == null) {
            throw new IllegalStateException(CLASS_NAME + ": call setTimesteps before using the schedule");
        }
    }

    private int trainTimestep(float timestep) {
        int t = (int) timestep;
        if (t != timestep || t < 0 || t >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException(CLASS_NAME + ": timestep " + timestep
                    + " is not an integer training timestep in [0, " + schedule.numTrainTimesteps() + ")"
                    + (timesteps == null ? "" : "; the schedule is " + Arrays.toString(timesteps)));
        }
        return t;
    }
}
