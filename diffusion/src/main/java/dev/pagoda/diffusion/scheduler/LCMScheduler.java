package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * Multistep consistency sampling of Latent Consistency Models (Luo et al. 2023; diffusers'
 * {@code LCMScheduler}). The inference timesteps are taken from the distillation grid
 * {@code k·i − 1} (k = N / original_inference_steps); each step maps the sample to the consistency
 * function's output {@code c_out·x₀ + c_skip·x} (the "denoised" sample, reported as
 * {@link SchedulerOutput#predOriginalSample()}) and, except at the last step, re-noises it to the
 * next timestep with one fresh draw.
 *
 * <p>Config fields: the beta schedule fields (defaults scaled_linear 0.00085 … 0.012),
 * {@code original_inference_steps} (50), {@code timestep_scaling} (10), {@code prediction_type}
 * (epsilon, sample, v_prediction), {@code clip_sample} / {@code clip_sample_range},
 * {@code thresholding}, {@code set_alpha_to_one}. {@code timestep_spacing} and {@code steps_offset}
 * do not affect the schedule, as in the reference.
 */
public final class LCMScheduler extends AlphaScheduler {

    public static final String CLASS_NAME = "LCMScheduler";

    private final PredictionType predictionType;
    private final int originalSteps;
    private final float timestepScaling;
    private final boolean clipSample;
    private final float clipSampleRange;
    private final DynamicThresholding thresholding;
    private int numInferenceSteps;

    public LCMScheduler(SchedulerConfig config) {
        super(config, consistencyBetas(config));
        // The schedule ignores timestep_spacing, but a misspelt value is still a config error.
        TimestepSpacing.fromConfig(config, "leading");
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.originalSteps = config.integer("original_inference_steps", 50);
        if (originalSteps < 1 || originalSteps > schedule.numTrainTimesteps()) {
            throw config.error("original_inference_steps", "an integer in [1, num_train_timesteps]", originalSteps);
        }
        this.timestepScaling = (float) config.number("timestep_scaling", 10.0);
        this.clipSample = config.bool("clip_sample", false);
        this.clipSampleRange = (float) config.number("clip_sample_range", 1.0);
        this.thresholding = DynamicThresholding.fromConfig(config);
    }

    /** LCM's and TCD's defaults: scaled_linear from 0.00085 to 0.012. */
    static NoiseSchedule consistencyBetas(SchedulerConfig config) {
        SchedulerConfig c = config.contains("beta_schedule") ? config : config.with("beta_schedule", "scaled_linear");
        return NoiseSchedule.fromConfig(c, false, 0.00085, 0.012);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    /**
     * diffusers' {@code set_timesteps(timesteps=...)}: the given integer timesteps as the schedule; each
     * step goes to the next one (diffusers only warns about timesteps off the distillation schedule).
     */
    @Override
    public void setTimesteps(float[] custom) {
        install(customIntegerTimesteps(custom));
        numInferenceSteps = custom.length;
    }

    @Override
    public void setTimesteps(int n) {
        install(distilledTimesteps(className(), schedule.numTrainTimesteps(), originalSteps, n));
        numInferenceSteps = n;
    }

    /**
     * {@code n} timesteps from the reversed grid {@code (1..orig)·(N // orig) − 1} at the indices
     * {@code floor(linspace(0, orig, n, endpoint=False))}.
     */
    static float[] distilledTimesteps(String who, int numTrain, int originalSteps, int n) {
        if (n < 1 || n > originalSteps) {
            throw new IllegalArgumentException(who + ".setTimesteps: numInferenceSteps must be in [1, "
                    + originalSteps + "] (original_inference_steps), got " + n);
        }
        int k = numTrain / originalSteps;
        float[] out = new float[n];
        double step = (double) originalSteps / n;
        for (int i = 0; i < n; i++) {
            int index = (int) Math.floor(i * step);
            out[i] = (float) ((originalSteps - index) * k - 1);
        }
        return out;
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        requireSchedule();
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int t = trainTimestep(timestep);
        int index = stepIndex() >= 0 ? stepIndex() : indexOf(timestep);
        boolean last = index == numInferenceSteps - 1;
        int prevT = index + 1 < timesteps.length ? (int) timesteps[index + 1] : t;
        float aT = schedule.alphaCumprod(t);
        float aPrev = schedule.alphaCumprod(prevT);
        float scaled = t * timestepScaling;
        float cSkip = 0.25f / (scaled * scaled + 0.25f);
        float cOut = scaled / (float) Math.sqrt(scaled * scaled + 0.25f);
        float[] x = Latents.values(sample);
        float[] x0 = new float[x.length];
        split(predictionType, aT, Latents.values(modelOutput), x, x0, new float[x.length]);
        if (thresholding != null) {
            thresholding.apply(x0, sample.shape());
        } else if (clipSample) {
            for (int k = 0; k < x0.length; k++) {
                x0[k] = Math.min(Math.max(x0[k], -clipSampleRange), clipSampleRange);
            }
        }
        float[] denoised = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            denoised[k] = cOut * x0[k] + cSkip * x[k];
        }
        float[] prev = denoised.clone();
        if (!last) {
            float[] z = Latents.values(Latents.requireNoise(noise, CLASS_NAME).next(modelOutput.shape()));
            float sa = (float) Math.sqrt(aPrev);
            float sb = (float) Math.sqrt(1.0f - aPrev);
            for (int k = 0; k < x.length; k++) {
                prev[k] = sa * denoised[k] + sb * z[k];
            }
        }
        if (stepIndex() < 0) {
            beginIndex = beginIndex >= 0 ? beginIndex : index;
        }
        stepsTaken++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(denoised, sample));
    }
}
