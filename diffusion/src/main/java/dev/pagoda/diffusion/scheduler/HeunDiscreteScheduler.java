package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Algorithm 1 without
 * churn; diffusers' {@code HeunDiscreteScheduler}). Every step but the first is two model
 * evaluations: an Euler predictor from σ to σ_next, then a corrector that averages the derivatives at
 * both ends. diffusers lists each σ twice in its timestep table so that a pipeline loop over the
 * timesteps makes both evaluations; {@link #order()} is 2.
 *
 * <p>Config fields: those of {@link KDiffusionScheduler}, {@code prediction_type} (epsilon,
 * v_prediction, sample), {@code clip_sample} with {@code clip_sample_range}; beta defaults 0.00085 and
 * 0.012 as in diffusers.
 */
public final class HeunDiscreteScheduler extends KDiffusionScheduler {

    public static final String CLASS_NAME = "HeunDiscreteScheduler";

    private final boolean clipSample;
    private final float clipRange;
    private float[] prevDerivative;
    private float[] firstSample;
    private float dt;

    public HeunDiscreteScheduler(SchedulerConfig config) {
        super(config, kdpmBetas(config), CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION, PredictionType.SAMPLE);
        this.clipSample = config.bool("clip_sample", false);
        this.clipRange = (float) config.number("clip_sample_range", 1.0);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public int order() {
        return 2;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        Base b = base(numInferenceSteps, false);
        float[] t = toFloat(b.timesteps());
        float[] ts = new float[2 * t.length - 1];
        ts[0] = t[0];
        for (int i = 1; i < t.length; i++) {
            ts[2 * i - 1] = t[i];
            ts[2 * i] = t[i];
        }
        install(ts, interleave(b.sigmas(), true));
        prevDerivative = null;
        firstSample = null;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        return Latents.like(scaled(Latents.values(sample), sigmas[currentStep(timestep)]), sample);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        boolean first = prevDerivative == null;
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaNext = first ? sigmas[i + 1] : sigmas[i];
        float[] x = Latents.values(sample);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, first ? sigma : sigmaNext);
        if (clipSample) {
            for (int k = 0; k < x0.length; k++) {
                x0[k] = Math.min(Math.max(x0[k], -clipRange), clipRange);
            }
        }
        float[] prev = new float[x.length];
        if (first) {
            float[] d = new float[x.length];
            float h = sigmaNext - sigma;
            for (int k = 0; k < x.length; k++) {
                d[k] = (x[k] - x0[k]) / sigma;
                prev[k] = x[k] + d[k] * h;
            }
            prevDerivative = d;
            firstSample = x;
            dt = h;
        } else {
            for (int k = 0; k < x.length; k++) {
                float d = (x[k] - x0[k]) / sigmaNext;
                float mean = (prevDerivative[k] + d) / 2;
                prev[k] = firstSample[k] + mean * dt;
            }
            prevDerivative = null;
            firstSample = null;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }
}
