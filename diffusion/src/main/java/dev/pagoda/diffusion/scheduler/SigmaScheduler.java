package dev.pagoda.diffusion.scheduler;

import java.util.Arrays;

/**
 * What the σ-based schedulers (Euler, Euler ancestral, DPM-Solver) share: a timestep table with one
 * σ per entry plus a final σ, and diffusers' step-index bookkeeping. The step index is found from
 * the first timestep passed to {@code scaleModelInput} or {@code step} (or taken from the begin
 * index an img2img pipeline set) and then advances by one per step.
 */
abstract class SigmaScheduler implements Scheduler {

    final SchedulerConfig config;
    final NoiseSchedule schedule;
    float[] timesteps;
    float[] sigmas;
    int stepIndex = -1;
    int beginIndex = -1;

    SigmaScheduler(SchedulerConfig config, NoiseSchedule schedule) {
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

    @Override
    public float[] sigmas() {
        requireSchedule();
        return sigmas.clone();
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
        return stepIndex;
    }

    static void requirePositiveSteps(String who, int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new IllegalArgumentException(who + ".setTimesteps: numInferenceSteps must be >= 1, got "
                    + numInferenceSteps);
        }
    }

    /** Installs a new schedule and forgets the step state, as {@code set_timesteps} does. */
    void install(float[] newTimesteps, float[] newSigmas) {
        this.timesteps = newTimesteps;
        this.sigmas = newSigmas;
        this.stepIndex = -1;
        this.beginIndex = -1;
    }

    void requireSchedule() {
        if (timesteps == null) {
            throw new IllegalStateException(className() + ": call setTimesteps before using the schedule");
        }
    }

    /** {@code _init_step_index} on first use, then the index of the step about to be taken. */
    int currentStep(float timestep) {
        requireSchedule();
        if (stepIndex < 0) {
            stepIndex = beginIndex >= 0 ? beginIndex : indexForTimestep(timestep);
        }
        if (stepIndex >= timesteps.length) {
            throw new IllegalStateException(className() + ": all " + timesteps.length
                    + " steps of the schedule have been taken; call setTimesteps to start again");
        }
        return stepIndex;
    }

    /**
     * The schedule index of {@code timestep}: the second match when it occurs more than once, so that
     * a run starting mid-schedule does not skip a σ (diffusers' {@code index_for_timestep}).
     */
    int indexForTimestep(float timestep) {
        int first = -1;
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == timestep) {
                if (first >= 0) {
                    return i;
                }
                first = i;
            }
        }
        if (first < 0) {
            return missingTimestep(timestep);
        }
        return first;
    }

    /** What {@link #indexForTimestep} does for a timestep that is not in the schedule. */
    int missingTimestep(float timestep) {
        throw new IllegalArgumentException(className() + ": timestep " + timestep
                + " is not in the schedule " + Arrays.toString(timesteps));
    }

    /**
     * The σ index {@code add_noise} uses: looked up by timestep when no begin index is set, the current
     * step after the first step (inpainting re-noising), else the begin index (img2img start).
     */
    int noiseIndex(float timestep) {
        requireSchedule();
        if (beginIndex < 0) {
            return indexForTimestep(timestep);
        }
        return stepIndex >= 0 ? stepIndex : beginIndex;
    }

    /** Max over the σ table, as {@code sigmas.max()} (NaN-free by construction). */
    float maxSigma() {
        requireSchedule();
        float m = Float.NEGATIVE_INFINITY;
        for (float s : sigmas) {
            m = Math.max(m, s);
        }
        return m;
    }

    /** Float32 timesteps from doubles, as {@code astype(np.float32)}. */
    static float[] toFloat(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    /** Reverses in place; returns the array. */
    static double[] reversed(double[] v) {
        for (int i = 0, j = v.length - 1; i < j; i++, j--) {
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }
}
