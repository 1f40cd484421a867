package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * Strategic stochastic sampling of Trajectory Consistency Distillation (Zheng et al. 2024; diffusers'
 * {@code TCDScheduler}). With γ = {@code eta} (default 0.3) each step predicts x₀ and ε, moves to the
 * intermediate timestep s = ⌊(1−γ)·t_prev⌋ deterministically, and for γ &gt; 0 (except at the last
 * step) re-noises from s to t_prev with one fresh draw.
 *
 * <p>Config fields: those of {@link LCMScheduler} except {@code timestep_scaling}, clipping and
 * thresholding (TCD uses none of them). {@link SchedulerOutput#predOriginalSample()} is x₀ at t;
 * diffusers' {@code pred_noised_sample} is the sample at s.
 */
public final class TCDScheduler extends AlphaScheduler implements EtaScheduler {

    public static final String CLASS_NAME = "TCDScheduler";

    private final PredictionType predictionType;
    private final int originalSteps;
    private int numInferenceSteps;
    private float eta = 0.3f;

    public TCDScheduler(SchedulerConfig config) {
        super(config, LCMScheduler.consistencyBetas(config));
        // The schedule ignores timestep_spacing, but a misspelt value is still a config error.
        TimestepSpacing.fromConfig(config, "leading");
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.originalSteps = config.integer("original_inference_steps", 50);
        if (originalSteps < 1 || originalSteps > schedule.numTrainTimesteps()) {
            throw config.error("original_inference_steps", "an integer in [1, num_train_timesteps]", originalSteps);
        }
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    /** γ in [0, 1] (diffusers' {@code eta} step argument; 0 is deterministic). */
    @Override
    public void setEta(float eta) {
        if (!(eta >= 0 && eta <= 1)) {
            throw new IllegalArgumentException(CLASS_NAME + ".setEta: eta (gamma) must be in [0, 1], got " + eta);
        }
        this.eta = eta;
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
        install(LCMScheduler.distilledTimesteps(className(), schedule.numTrainTimesteps(), originalSteps, n));
        numInferenceSteps = n;
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        requireSchedule();
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int t = trainTimestep(timestep);
        int index = stepIndex() >= 0 ? stepIndex() : indexOf(timestep);
        int prevT = index + 1 < timesteps.length ? (int) timesteps[index + 1] : 0;
        int s = (int) Math.floor((float) (1.0 - eta) * prevT);
        float aT = schedule.alphaCumprod(t);
        float aPrev = schedule.alphaCumprod(prevT);
        float aS = schedule.alphaCumprod(s);
        float[] x = Latents.values(sample);
        float[] x0 = new float[x.length];
        float[] eps = new float[x.length];
        split(predictionType, aT, Latents.values(modelOutput), x, x0, eps);
        float sqrtAS = (float) Math.sqrt(aS);
        float sqrtBS = (float) Math.sqrt(1.0f - aS);
        float[] noised = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            noised[k] = sqrtAS * x0[k] + sqrtBS * eps[k];
        }
        float[] prev = noised.clone();
        if (eta > 0 && index != numInferenceSteps - 1) {
            float[] z = Latents.values(Latents.requireNoise(noise, CLASS_NAME + " with eta > 0")
                    .next(modelOutput.shape()));
            float ratio = aPrev / aS;
            float c1 = (float) Math.sqrt(ratio);
            float c2 = (float) Math.sqrt(1.0f - ratio);
            for (int k = 0; k < x.length; k++) {
                prev[k] = c1 * noised[k] + c2 * z[k];
            }
        }
        if (stepIndex() < 0) {
            beginIndex = beginIndex >= 0 ? beginIndex : index;
        }
        stepsTaken++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }
}
