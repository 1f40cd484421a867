package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import java.util.Arrays;

/**
 * What the ᾱ-indexed schedulers (DDPM, PNDM, LCM, TCD) share: integer training timesteps, ᾱ looked up
 * by timestep value, forward diffusion √ᾱ·x + √(1−ᾱ)·ε, and the begin-index bookkeeping that
 * img2img pipelines use (the numbers do not depend on it).
 */
abstract class AlphaScheduler implements Scheduler {

    final SchedulerConfig config;
    final NoiseSchedule schedule;
    float[] timesteps;
    int beginIndex = -1;
    int stepsTaken;

    AlphaScheduler(SchedulerConfig config, NoiseSchedule schedule) {
        this.config = config;
        this.schedule = schedule;
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

    @Override
    public float[] timesteps() {
        requireSchedule();
        return timesteps.clone();
    }

    /** √((1−ᾱ_t)/ᾱ_t) at each timestep, then 0 (these schedulers keep no σ table). */
    @Override
    public float[] sigmas() {
        requireSchedule();
        float[] s = new float[timesteps.length + 1];
        for (int i = 0; i < timesteps.length; i++) {
            float a = schedule.alphaCumprod((int) timesteps[i]);
            s[i] = (float) Math.sqrt((1.0f - a) / a);
        }
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

    /**
     * The custom timesteps DDPM, LCM and TCD take ({@code set_timesteps(timesteps=...)}): integers
     * (int64, truncated), strictly descending, the first below {@code num_train_timesteps}.
     *
     * @throws IllegalArgumentException naming what diffusers refuses
     */
    float[] customIntegerTimesteps(float[] custom) {
        if (custom == null || custom.length == 0) {
            throw new IllegalArgumentException(className() + ": custom timesteps must not be empty");
        }
        float[] ts = new float[custom.length];
        for (int i = 0; i < ts.length; i++) {
            if (!Float.isFinite(custom[i]) || custom[i] < 0) {
                throw new IllegalArgumentException(className() + ": custom timesteps must be finite and >= 0, got "
                        + java.util.Arrays.toString(custom));
            }
            if (i > 0 && custom[i] >= custom[i - 1]) {
                throw new IllegalArgumentException(className() + ": `custom_timesteps` must be in descending order,"
                        + " got " + java.util.Arrays.toString(custom));
            }
            ts[i] = (long) custom[i];
        }
        if (ts[0] >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException(className() + ": `timesteps` must start before num_train_timesteps "
                    + schedule.numTrainTimesteps() + ", got " + custom[0]);
        }
        return ts;
    }

    void install(float[] newTimesteps) {
        this.timesteps = newTimesteps;
        this.beginIndex = -1;
        this.stepsTaken = 0;
    }

    @Override
    public Tensor addNoise(Tensor original, Tensor noise, float timestep) {
        Latents.requireSameShape(className() + ".addNoise", "original", original, "noise", noise);
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

    @Override
    public void setBeginIndex(int beginIndex) {
        requireSchedule();
        if (beginIndex < 0 || beginIndex >= timesteps.length) {
            throw new IllegalArgumentException(className() + ".setBeginIndex: " + beginIndex
                    + " is outside the schedule of " + timesteps.length + " timesteps");
        }
        this.beginIndex = beginIndex;
    }

    @Override
    public int beginIndex() {
        return beginIndex;
    }

    @Override
    public int stepIndex() {
        if (timesteps == null || (stepsTaken == 0 && beginIndex < 0)) {
            return -1;
        }
        return Math.max(beginIndex, 0) + stepsTaken;
    }

    void requireSchedule() {
        if (timesteps == null) {
            throw new IllegalStateException(className() + ": call setTimesteps before using the schedule");
        }
    }

    void requireSteps(int n) {
        if (n < 1 || n > schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException(className() + ".setTimesteps: numInferenceSteps must be in [1, "
                    + schedule.numTrainTimesteps() + "] (num_train_timesteps), got " + n);
        }
    }

    int trainTimestep(float timestep) {
        int t = (int) timestep;
        if (t != timestep || t < 0 || t >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException(className() + ": timestep " + timestep
                    + " is not an integer training timestep in [0, " + schedule.numTrainTimesteps() + ")"
                    + (timesteps == null ? "" : "; the schedule is " + Arrays.toString(timesteps)));
        }
        return t;
    }

    /** The position of {@code timestep} in the schedule (its first occurrence). */
    int indexOf(float timestep) {
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == timestep) {
                return i;
            }
        }
        throw new IllegalArgumentException(className() + ": timestep " + timestep + " is not in the schedule "
                + Arrays.toString(timesteps));
    }

    /**
     * The integer grids of DDPM/DDIM: {@code linspace(0, N−1, n).round()} reversed, the leading
     * {@code arange(n)·(N//n) + steps_offset} reversed, or the trailing {@code round(arange(N, 0, −N/n)) − 1}.
     */
    static float[] integerTimesteps(TimestepSpacing spacing, int numTrain, int n, int stepsOffset) {
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
        return out;
    }

    /** x₀ and ε from the model output at ᾱ = {@code a} for {@code prediction}. */
    static void split(PredictionType prediction, float a, float[] m, float[] x, float[] x0, float[] eps) {
        float sqrtA = (float) Math.sqrt(a);
        float sqrtB = (float) Math.sqrt(1.0f - a);
        for (int k = 0; k < x.length; k++) {
            switch (prediction) {
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
    }
}
