package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * k-diffusion's ancestral DPM-Solver-2 ({@code sample_dpm_2_ancestral}; diffusers'
 * {@code KDPM2AncestralDiscreteScheduler}). σ_next² is split as in Euler ancestral into σ_down² and
 * fresh noise σ_up²; the midpoint step of {@link KDPM2DiscreteScheduler} runs from σ to σ_down through
 * √(σ·σ_down), and noise of standard deviation σ_up is added after the second evaluation (one draw
 * shaped like the model output per full step, from the {@link NoiseSource}, as the reference draws).
 *
 * <p>Config fields: those of {@link KDiffusionScheduler}, {@code prediction_type} (epsilon,
 * v_prediction); beta defaults 0.00085 and 0.012.
 */
public final class KDPM2AncestralDiscreteScheduler extends KDiffusionScheduler {

    public static final String CLASS_NAME = "KDPM2AncestralDiscreteScheduler";

    private float[] sigmasInterpol;
    private float[] sigmasUp;
    private float[] sigmasDown;
    private float[] firstSample;

    public KDPM2AncestralDiscreteScheduler(SchedulerConfig config) {
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
        float[] up = new float[n];
        float[] down = new float[n];
        float[] mid = new float[n];
        for (int i = 0; i < n; i++) {
            float next = i + 1 < n ? s[i + 1] : 0.0f;
            float next2 = next * next;
            float cur2 = s[i] * s[i];
            up[i] = (float) Math.sqrt(next2 * (cur2 - next2) / cur2);
            down[i] = i == n - 1 ? 0.0f : (float) Math.sqrt(next2 - up[i] * up[i]);
        }
        for (int i = 0; i < n; i++) {
            float a = (float) Math.log(s[i]);
            float e = (float) Math.log(down[i]);
            mid[i] = i >= n - 2 ? 0.0f : (float) Math.exp(e - (e - a) * 0.5f);
        }
        double[] t = b.timesteps();
        float[] ts = new float[2 * t.length - 1];
        ts[0] = (float) t[0];
        for (int i = 1; i < t.length; i++) {
            ts[2 * i - 1] = (float) schedule.sigmaToTimestep(mid[i - 1]);
            ts[2 * i] = (float) t[i];
        }
        install(ts, interleave(s, false));
        sigmasInterpol = interleave(mid, false);
        sigmasUp = interleave(up, false);
        sigmasDown = interleave(down, false);
        firstSample = null;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        int i = currentStep(timestep);
        float sigma = firstSample == null ? sigmas[i] : sigmasInterpol[i - 1];
        return Latents.like(scaled(Latents.values(sample), sigma), sample);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        boolean first = firstSample == null;
        if (!first) {
            Latents.requireNoise(noise, CLASS_NAME);
        }
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaMid = first ? sigmasInterpol[i] : sigmasInterpol[i - 1];
        float[] x = Latents.values(sample);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, first ? sigma : sigmaMid);
        float[] prev = new float[x.length];
        if (first) {
            float dt = sigmaMid - sigma;
            for (int k = 0; k < x.length; k++) {
                float d = (x[k] - x0[k]) / sigma;
                prev[k] = x[k] + d * dt;
            }
            firstSample = x;
        } else {
            float sigmaUp = sigmasUp[i - 1];
            float dt = sigmasDown[i - 1] - sigma;
            float[] z = Latents.values(noise.next(modelOutput.shape()));
            for (int k = 0; k < x.length; k++) {
                float d = (x[k] - x0[k]) / sigmaMid;
                float p = firstSample[k] + d * dt;
                prev[k] = p + z[k] * sigmaUp;
            }
            firstSample = null;
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }
}
