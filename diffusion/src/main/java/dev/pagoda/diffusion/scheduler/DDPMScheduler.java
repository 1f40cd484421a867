package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;

/**
 * Ancestral sampling of Ho et al. 2020 (diffusers' {@code DDPMScheduler}): the posterior mean
 * μ = c₀·x₀ + c_t·x_t of q(x_{t−1} | x_t, x₀) plus noise of the configured variance. Every step with
 * t &gt; 0 draws one noise tensor shaped like the model output, as the reference does.
 *
 * <p>Config fields: the beta schedule fields, {@code variance_type} (fixed_small, fixed_small_log,
 * fixed_large; the reference's fixed_large_log takes √ of a negative log and gives NaN, so it is refused),
 * {@code clip_sample} / {@code clip_sample_range},
 * {@code thresholding} with its ratio and {@code sample_max_value}, {@code prediction_type} (epsilon,
 * sample, v_prediction), {@code timestep_spacing} (default leading), {@code steps_offset}. The learned
 * variance types need a model that predicts them (not among Pagoda's models) and are refused.
 */
public final class DDPMScheduler extends AlphaScheduler {

    public static final String CLASS_NAME = "DDPMScheduler";

    private final PredictionType predictionType;
    private final String varianceType;
    private final boolean clipSample;
    private final float clipSampleRange;
    private final DynamicThresholding thresholding;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private int numInferenceSteps;
    private boolean customTimesteps;

    public DDPMScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, false));
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION);
        this.varianceType = config.choice("variance_type", "fixed_small",
                List.of("fixed_small", "fixed_small_log", "fixed_large"));
        this.clipSample = config.bool("clip_sample", true);
        this.clipSampleRange = (float) config.number("clip_sample_range", 1.0);
        this.thresholding = DynamicThresholding.fromConfig(config);
        this.spacing = TimestepSpacing.fromConfig(config, "leading");
        this.stepsOffset = config.integer("steps_offset", 0);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public void setTimesteps(int n) {
        requireSteps(n);
        install(integerTimesteps(spacing, schedule.numTrainTimesteps(), n, stepsOffset));
        numInferenceSteps = n;
        customTimesteps = false;
    }

    /**
     * diffusers' {@code set_timesteps(timesteps=...)}: integer timesteps, strictly descending, below
     * {@code num_train_timesteps}; each step then goes back to the next one in the list (-1 after the last).
     *
     * @throws IllegalArgumentException for an empty, unordered or out-of-range list (as diffusers refuses)
     */
    @Override
    public void setTimesteps(float[] custom) {
        float[] ts = customIntegerTimesteps(custom);
        install(ts);
        customTimesteps = true;
    }

    /** diffusers' {@code previous_timestep}. */
    private int previousTimestep(int t) {
        if (!customTimesteps) {
            // N // n whatever the spacing
            return t - schedule.numTrainTimesteps() / numInferenceSteps;
        }
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == t) {
                return i == timesteps.length - 1 ? -1 : (int) timesteps[i + 1];
            }
        }
        throw new IllegalArgumentException(CLASS_NAME + ".step: timestep " + t + " is not in the custom schedule "
                + java.util.Arrays.toString(timesteps));
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        requireSchedule();
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int t = trainTimestep(timestep);
        int prevT = previousTimestep(t);
        float aT = schedule.alphaCumprod(t);
        float aPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1.0f;
        float bT = 1.0f - aT;
        float bPrev = 1.0f - aPrev;
        float alphaT = aT / aPrev;
        float betaT = 1.0f - alphaT;
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
        float cX0 = ((float) Math.sqrt(aPrev) * betaT) / bT;
        float cXt = (float) Math.sqrt(alphaT) * bPrev / bT;
        float[] prev = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            prev[k] = cX0 * x0[k] + cXt * x[k];
        }
        if (t > 0) {
            float[] z = Latents.values(Latents.requireNoise(noise, CLASS_NAME).next(modelOutput.shape()));
            float small = Math.max((bPrev / bT) * betaT, 1e-20f);
            float std = switch (varianceType) {
                case "fixed_small" -> (float) Math.sqrt(small);
                // exp(0.5·log v) of the reference, i.e. √v.
                case "fixed_small_log" -> (float) Math.exp(0.5f * (float) Math.log(small));
                case "fixed_large" -> (float) Math.sqrt(betaT);
                default -> (float) Math.sqrt(betaT);
            };
            for (int k = 0; k < x.length; k++) {
                prev[k] = prev[k] + std * z[k];
            }
        }
        stepsTaken++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }
}
