package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * Euler ancestral sampling (k-diffusion's {@code sample_euler_ancestral}; diffusers'
 * {@code EulerAncestralDiscreteScheduler}). Each step from σ to σ_next splits σ_next² into a
 * deterministic part σ_down² and fresh noise σ_up² = σ_next²(σ² − σ_next²)/σ²: an Euler step to
 * σ_down, then noise of standard deviation σ_up. Every step draws one noise tensor shaped like the
 * model output from the {@link NoiseSource}, the last step included (where σ_up = 0), exactly as
 * the reference consumes its generator.
 *
 * <p>Config fields: the beta schedule fields, {@code timestep_spacing}, {@code steps_offset},
 * {@code prediction_type} (epsilon, v_prediction).
 */
public final class EulerAncestralDiscreteScheduler extends SigmaScheduler {

    public static final String CLASS_NAME = "EulerAncestralDiscreteScheduler";

    private final PredictionType predictionType;
    private final TimestepSpacing spacing;
    private final int stepsOffset;

    public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, true));
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION);
        this.spacing = TimestepSpacing.fromConfig(config, "linspace");
        this.stepsOffset = config.integer("steps_offset", 0);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        float[] ts = EulerDiscreteScheduler.eulerTimesteps(spacing, schedule.numTrainTimesteps(),
                numInferenceSteps, stepsOffset);
        double[] t64 = new double[ts.length];
        for (int i = 0; i < ts.length; i++) {
            t64[i] = ts[i];
        }
        double[] levels = schedule.interpolateSigmas(t64);
        float[] sig = new float[ts.length + 1];
        for (int i = 0; i < ts.length; i++) {
            sig[i] = (float) levels[i];
        }
        install(ts, sig);
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
        Latents.requireNoise(noise, CLASS_NAME);
        int i = currentStep(timestep);
        float sigma = sigmas[i];
        float[] x = Latents.values(sample);
        float[] m = Latents.values(modelOutput);
        float[] x0 = new float[x.length];
        if (predictionType == PredictionType.EPSILON) {
            for (int k = 0; k < x.length; k++) {
                x0[k] = x[k] - sigma * m[k];
            }
        } else {
            float var = sigma * sigma + 1.0f;
            float cOut = -sigma / (float) Math.sqrt(var);
            for (int k = 0; k < x.length; k++) {
                x0[k] = m[k] * cOut + x[k] / var;
            }
        }
        float from2 = sigma * sigma;
        float to = sigmas[i + 1];
        float to2 = to * to;
        float sigmaUp = (float) Math.sqrt(to2 * (from2 - to2) / from2);
        float sigmaDown = (float) Math.sqrt(to2 - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        float[] z = Latents.values(noise.next(modelOutput.shape()));
        float[] prev = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            float derivative = (x[k] - x0[k]) / sigma;
            float p = x[k] + derivative * dt;
            prev[k] = p + z[k] * sigmaUp;
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
