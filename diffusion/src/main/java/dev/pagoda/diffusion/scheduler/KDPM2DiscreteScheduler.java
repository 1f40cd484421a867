package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * k-diffusion's DPM-Solver-2 ({@code sample_dpm_2}; diffusers' {@code KDPM2DiscreteScheduler}): a
 * midpoint method in log σ. From σ an Euler step reaches the geometric midpoint
 * σ_mid = √(σ·σ_next); the model is evaluated there and its derivative carries the original sample
 * the whole way to σ_next. Like Heun, diffusers interleaves the midpoint timesteps into its table
 * ({@link #order()} 2). {@link #sigmas()} is diffusers' interleaved σ table (length
 * {@code 2·steps + 2}); the midpoint levels are kept beside it.
 *
 * <p>Config fields: those of {@link KDiffusionScheduler}, {@code prediction_type} (epsilon,
 * v_prediction); beta defaults 0.00085 and 0.012; Karras timesteps are rounded as in diffusers.
 */
public final class KDPM2DiscreteScheduler extends KDiffusionScheduler {

    public static final String CLASS_NAME = "KDPM2DiscreteScheduler";

    private float[] sigmasInterpol;
    private float[] firstSample;

    public KDPM2DiscreteScheduler(SchedulerConfig config) {
        super(config, kdpmBetas(config), CLASS_NAME, PredictionType.EPSILON, PredictionType.V_PREDICTION);
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
        Base b = base(numInferenceSteps, true);
        float[] s = b.sigmas();
        int n = s.length;
        float[] mid = new float[n];
        for (int i = 0; i < n; i++) {
            // exp(lerp(log σ_i, log σ_{i-1}, 0.5)) in float32, torch's lerp formula for weight 0.5;
            // entry 0 (against the final 0) is never used.
            float a = (float) Math.log(s[i]);
            float e = (float) Math.log(s[(i + n - 1) % n]);
            mid[i] = (float) Math.exp(e - (e - a) * 0.5f);
        }
        double[] t = b.timesteps();
        float[] ts = new float[2 * t.length - 1];
        ts[0] = (float) t[0];
        for (int i = 1; i < t.length; i++) {
            ts[2 * i - 1] = (float) schedule.sigmaToTimestep(mid[i]);
            ts[2 * i] = (float) t[i];
        }
        install(ts, interleave(s, false));
        sigmasInterpol = interleave(mid, false);
        firstSample = null;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        int i = currentStep(timestep);
        float sigma = firstSample == null ? sigmas[i] : sigmasInterpol[i];
        return Latents.like(scaled(Latents.values(sample), sigma), sample);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        boolean first = firstSample == null;
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaMid = first ? sigmasInterpol[i + 1] : sigmasInterpol[i];
        float sigmaNext = first ? sigmas[i + 1] : sigmas[i];
        float[] x = Latents.values(sample);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, first ? sigma : sigmaMid);
        float[] prev = new float[x.length];
        float[] from = first ? x : firstSample;
        float divisor = first ? sigma : sigmaMid;
        float dt = first ? sigmaMid - sigma : sigmaNext - sigma;
        for (int k = 0; k < x.length; k++) {
            float d = (x[k] - x0[k]) / divisor;
            prev[k] = from[k] + d * dt;
        }
        firstSample = first ? x : null;
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }
}
