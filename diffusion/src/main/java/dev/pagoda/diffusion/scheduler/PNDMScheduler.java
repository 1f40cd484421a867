package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pseudo numerical methods for diffusion models (Liu et al. 2022; diffusers' {@code PNDMScheduler},
 * SD 1.5's default). Each step moves along the DDIM transfer φ(x_t, ε, t → t_prev); ε is a
 * linear-multistep (PLMS) combination of the last four model outputs, started either by
 * Runge–Kutta steps (PRK, four evaluations per step) or, with {@code skip_prk_steps}, by one Heun-like
 * step that evaluates the model twice at the second timestep (diffusers lists it twice).
 *
 * <p>Config fields: the beta schedule fields, {@code skip_prk_steps} (false), {@code set_alpha_to_one}
 * (false), {@code prediction_type} (epsilon, v_prediction), {@code timestep_spacing} (default leading),
 * {@code steps_offset}. Steps are counted, so they must be replayed in order from the start.
 */
public final class PNDMScheduler extends AlphaScheduler {

    public static final String CLASS_NAME = "PNDMScheduler";

    private final PredictionType predictionType;
    private final boolean skipPrk;
    private final float finalAlphaCumprod;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private int numInferenceSteps;
    private float[] prkTimesteps = new float[0];

    private final List<float[]> ets = new ArrayList<>();
    private int counter;
    private float[] curSample;
    private float[] curModelOutput;

    public PNDMScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, false));
        this.predictionType = PredictionType.fromConfig(config, CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION);
        this.skipPrk = config.bool("skip_prk_steps", false);
        this.finalAlphaCumprod = config.bool("set_alpha_to_one", false) ? 1.0f : schedule.alphaCumprod(0);
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
        int numTrain = schedule.numTrainTimesteps();
        // The ascending grid of the reference (_timesteps).
        float[] desc = integerTimesteps(spacing, numTrain, n, stepsOffset);
        int len = desc.length;
        float[] asc = new float[len];
        for (int i = 0; i < len; i++) {
            asc[i] = desc[len - 1 - i];
        }
        float[] all;
        if (skipPrk) {
            prkTimesteps = new float[0];
            if (len < 2) {
                all = asc.clone();
            } else {
                // [ts[:-1], ts[-2], ts[-1]] reversed: the second timestep appears twice.
                all = new float[len + 1];
                all[0] = asc[len - 1];
                all[1] = asc[len - 2];
                for (int i = 2; i <= len; i++) {
                    all[i] = asc[len - i];
                }
            }
        } else {
            if (len < 4) {
                throw new IllegalArgumentException(CLASS_NAME + ".setTimesteps: PRK warm-up needs at least 4 steps, got "
                        + n + " (set skip_prk_steps for fewer)");
            }
            int half = numTrain / n / 2;
            float[] prk = new float[8];
            for (int j = 0; j < 4; j++) {
                prk[2 * j] = asc[len - 4 + j];
                prk[2 * j + 1] = asc[len - 4 + j] + half;
            }
            // prk[:-1].repeat(2)[1:-1], reversed.
            float[] rep = new float[14];
            for (int j = 0; j < 7; j++) {
                rep[2 * j] = prk[j];
                rep[2 * j + 1] = prk[j];
            }
            prkTimesteps = new float[12];
            for (int j = 0; j < 12; j++) {
                prkTimesteps[j] = rep[12 - j];
            }
            all = new float[12 + len - 3];
            System.arraycopy(prkTimesteps, 0, all, 0, 12);
            for (int j = 0; j < len - 3; j++) {
                all[12 + j] = asc[len - 4 - j];
            }
        }
        install(all);
        numInferenceSteps = n;
        ets.clear();
        counter = 0;
        curSample = null;
        curModelOutput = null;
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        requireSchedule();
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        if (counter >= timesteps.length) {
            throw new IllegalStateException(CLASS_NAME + ": all " + timesteps.length
                    + " steps of the schedule have been taken; call setTimesteps to start again");
        }
        int t = trainTimestep(timestep);
        float[] m = Latents.values(modelOutput);
        float[] x = Latents.values(sample);
        float[] prev = counter < prkTimesteps.length && !skipPrk ? stepPrk(m, t, x) : stepPlms(m, t, x);
        counter++;
        stepsTaken++;
        // PNDM estimates no x₀ (diffusers returns prev_sample only).
        return new SchedulerOutput(Latents.like(prev, sample), null);
    }

    private float[] stepPrk(float[] m, int timestep, float[] x) {
        int diff = counter % 2 != 0 ? 0 : schedule.numTrainTimesteps() / numInferenceSteps / 2;
        int prevT = timestep - diff;
        int t = (int) prkTimesteps[counter / 4 * 4];
        float[] eps = m;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = scaledAdd(null, 1.0f / 6, m);
                ets.add(m);
                curSample = x;
            }
            case 1, 2 -> curModelOutput = scaledAdd(curModelOutput, 1.0f / 3, m);
            default -> {
                eps = scaledAdd(curModelOutput, 1.0f / 6, m);
                curModelOutput = null;
            }
        }
        return prevSample(curSample != null ? curSample : x, t, prevT, eps);
    }

    /** {@code acc + c·m} (or {@code 0 + c·m}) in float32. */
    private static float[] scaledAdd(float[] acc, float c, float[] m) {
        float[] out = new float[m.length];
        for (int k = 0; k < m.length; k++) {
            out[k] = (acc == null ? 0.0f : acc[k]) + c * m[k];
        }
        return out;
    }

    private float[] stepPlms(float[] m, int timestep, float[] x) {
        int ratio = schedule.numTrainTimesteps() / numInferenceSteps;
        int prevT = timestep - ratio;
        int t = timestep;
        if (counter != 1) {
            while (ets.size() > 3) {
                ets.remove(0);
            }
            ets.add(m);
        } else {
            prevT = timestep;
            t = timestep + ratio;
        }
        int n = ets.size();
        float[] eps = new float[m.length];
        float[] sample = x;
        if (n == 1 && counter == 0) {
            eps = m;
            curSample = x;
        } else if (n == 1 && counter == 1) {
            float[] e1 = ets.get(0);
            for (int k = 0; k < m.length; k++) {
                eps[k] = (m[k] + e1[k]) / 2;
            }
            sample = curSample;
            curSample = null;
        } else if (n == 2) {
            float[] e1 = ets.get(1);
            float[] e2 = ets.get(0);
            for (int k = 0; k < m.length; k++) {
                eps[k] = (3 * e1[k] - e2[k]) / 2;
            }
        } else if (n == 3) {
            float[] e1 = ets.get(2);
            float[] e2 = ets.get(1);
            float[] e3 = ets.get(0);
            for (int k = 0; k < m.length; k++) {
                eps[k] = (23 * e1[k] - 16 * e2[k] + 5 * e3[k]) / 12;
            }
        } else {
            float[] e1 = ets.get(3);
            float[] e2 = ets.get(2);
            float[] e3 = ets.get(1);
            float[] e4 = ets.get(0);
            float c = (float) (1.0 / 24);
            for (int k = 0; k < m.length; k++) {
                eps[k] = c * (55 * e1[k] - 59 * e2[k] + 37 * e3[k] - 9 * e4[k]);
            }
        }
        return prevSample(sample, t, prevT, eps);
    }

    /** The DDIM transfer of the paper's eq. (9) in diffusers' arrangement. */
    private float[] prevSample(float[] x, int t, int prevT, float[] m) {
        float a = schedule.alphaCumprod(t);
        float aPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
        float b = 1.0f - a;
        float bPrev = 1.0f - aPrev;
        float[] eps = m;
        if (predictionType == PredictionType.V_PREDICTION) {
            float sa = (float) Math.sqrt(a);
            float sb = (float) Math.sqrt(b);
            eps = new float[m.length];
            for (int k = 0; k < m.length; k++) {
                eps[k] = sa * m[k] + sb * x[k];
            }
        }
        float sampleCoeff = (float) Math.sqrt(aPrev / a);
        float denom = a * (float) Math.sqrt(bPrev) + (float) Math.sqrt(a * b * aPrev);
        float diff = aPrev - a;
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = sampleCoeff * x[k] - diff * eps[k] / denom;
        }
        return out;
    }

    @Override
    public String toString() {
        return CLASS_NAME + Arrays.toString(timesteps);
    }
}
