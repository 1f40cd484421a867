package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.Arrays;

/**
 * A diffusers noise scheduler: where each denoising step lands and how a sample moves from one noise
 * level to the next. The usual loop, as in diffusers' pipelines:
 * <pre>{@code
 * scheduler.setTimesteps(steps);                // or: float[] ts = scheduler.setTimesteps(steps, strength)
 * latents = noise.next(shape) * scheduler.initNoiseSigma();
 * for (float t : scheduler.timesteps()) {
 *     Tensor in = scheduler.scaleModelInput(latents, t);
 *     Tensor eps = denoiser(in, t);
 *     latents = scheduler.step(eps, t, latents, noise).prevSample();
 * }
 * }</pre>
 * Schedulers are stateful (the step counter, DPM-Solver's history of model outputs): replay steps in
 * order, and call {@code setTimesteps} again to start a new run. Arithmetic on samples is float32 in
 * the reference's operation order, so results match diffusers to float32 rounding.
 */
public interface Scheduler {

    /** The diffusers class name, e.g. {@code "EulerDiscreteScheduler"}. */
    String className();

    /** The configuration this scheduler was built from. */
    SchedulerConfig config();

    /** {@code num_train_timesteps}. */
    int numTrainTimesteps();

    /** How many timestep entries one solver step spans (1 for every scheduler here). */
    int order();

    /**
     * Builds the schedule for {@code numInferenceSteps} denoising steps and resets the step state.
     *
     * @throws IllegalArgumentException when {@code numInferenceSteps < 1} (or beyond what the
     *     scheduler supports)
     */
    void setTimesteps(int numInferenceSteps);

    /**
     * diffusers' {@code set_timesteps(timesteps=...)}: a custom schedule, highest noise first; the
     * step count is its length. Only some schedulers take one.
     *
     * @throws IllegalArgumentException when this scheduler does not take custom timesteps, or when they
     *     do not fit its configuration
     */
    default void setTimesteps(float[] timesteps) {
        throw new IllegalArgumentException("The current scheduler class " + className() + "'s `set_timesteps` does"
                + " not support custom timestep schedules (as in diffusers); use EulerDiscreteScheduler");
    }

    /**
     * diffusers' {@code set_timesteps(sigmas=...)}: custom noise levels, highest first and the final
     * level last (so {@code sigmas.length - 1} steps). Only some schedulers take them.
     *
     * @throws IllegalArgumentException when this scheduler does not take custom sigmas
     */
    default void setSigmas(float[] sigmas) {
        throw new IllegalArgumentException("The current scheduler class " + className() + "'s `set_timesteps` does"
                + " not support custom sigmas schedules (as in diffusers); use EulerDiscreteScheduler");
    }

    /**
     * The img2img / inpainting schedule of diffusers' SDXL pipelines ({@code get_timesteps} with
     * {@code denoising_start=None}): sets the full schedule for {@code numInferenceSteps}, keeps the
     * last {@code min(int(n·strength), n)} steps, sets the begin index there, and returns the timesteps
     * to run. The first of them is the noise level of {@link #addNoise} for the initial latents.
     *
     * @throws IllegalArgumentException when strength is outside (0, 1], or when it leaves no step
     */
    default float[] setTimesteps(int numInferenceSteps, double strength) {
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        setTimesteps(numInferenceSteps);
        return keepStrengthTail(numInferenceSteps, strength);
    }

    /**
     * The schedule a call asks for (diffusers' {@code retrieve_timesteps}): its custom timesteps, else its
     * custom sigmas, else {@code numInferenceSteps} evenly as configured.
     */
    default void setSchedule(int numInferenceSteps, float[] customTimesteps, float[] customSigmas) {
        if (customTimesteps != null) {
            setTimesteps(customTimesteps);
        } else if (customSigmas != null) {
            setSigmas(customSigmas);
        } else {
            setTimesteps(numInferenceSteps);
        }
    }

    /**
     * {@code get_timesteps(strength)} on the schedule already set: keeps the last
     * {@code min(int(n·strength), n)} steps, sets the begin index there and returns them.
     *
     * @throws IllegalArgumentException when strength is outside (0, 1], or when it leaves no step
     */
    default float[] keepStrengthTail(int numInferenceSteps, double strength) {
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        int initTimestep = Math.min((int) (numInferenceSteps * strength), numInferenceSteps);
        if (initTimestep < 1) {
            throw new IllegalArgumentException("strength " + strength + " with " + numInferenceSteps
                    + " inference steps leaves no denoising step (int(steps * strength) = 0)");
        }
        int tStart = Math.max(numInferenceSteps - initTimestep, 0);
        setBeginIndex(tStart * order());
        float[] all = timesteps();
        return Arrays.copyOfRange(all, tStart * order(), all.length);
    }

    /**
     * diffusers' SDXL {@code get_timesteps} with {@code denoising_start} (strength plays no part): sets the
     * full schedule, keeps the timesteps below the discrete cutoff
     * {@code int(round(T - denoisingStart·T))} (T = {@code num_train_timesteps}; Python's half-even
     * round), one more for a second-order scheduler whose count came out even (so the run never
     * stops between its two derivative evaluations), sets the begin index there and returns them.
     *
     * @throws IllegalArgumentException when denoisingStart is outside (0, 1) or leaves no timestep
     */
    default float[] setTimestepsFromDenoisingStart(int numInferenceSteps, double denoisingStart) {
        if (!(denoisingStart > 0 && denoisingStart < 1)) {
            throw new IllegalArgumentException("denoising_start must be in (0, 1), got " + denoisingStart);
        }
        setTimesteps(numInferenceSteps);
        return keepBelowDenoisingStart(numInferenceSteps, denoisingStart);
    }

    /** {@code get_timesteps(denoising_start)} on the schedule already set (see {@link #setTimestepsFromDenoisingStart}). */
    default float[] keepBelowDenoisingStart(int numInferenceSteps, double denoisingStart) {
        if (!(denoisingStart > 0 && denoisingStart < 1)) {
            throw new IllegalArgumentException("denoising_start must be in (0, 1), got " + denoisingStart);
        }
        float[] all = timesteps();
        int cutoff = discreteTimestepCutoff(denoisingStart);
        int n = 0;
        for (float t : all) {
            if (t < cutoff) {
                n++;
            }
        }
        if (order() == 2 && n % 2 == 0) {
            n++;
        }
        if (n == 0) {
            throw new IllegalArgumentException("denoising_start " + denoisingStart + " with " + numInferenceSteps
                    + " inference steps leaves no timestep below the cutoff " + cutoff);
        }
        int tStart = all.length - n;
        setBeginIndex(tStart);
        return Arrays.copyOfRange(all, tStart, all.length);
    }

    /**
     * diffusers' {@code denoising_end}: the leading part of {@code timesteps} at or above the cutoff
     * {@code int(round(T - denoisingEnd·T))}.
     */
    default float[] truncateForDenoisingEnd(float[] timesteps, double denoisingEnd) {
        if (!(denoisingEnd > 0 && denoisingEnd < 1)) {
            throw new IllegalArgumentException("denoising_end must be in (0, 1), got " + denoisingEnd);
        }
        int cutoff = discreteTimestepCutoff(denoisingEnd);
        int n = 0;
        for (float t : timesteps) {
            if (t >= cutoff) {
                n++;
            }
        }
        return Arrays.copyOf(timesteps, n);
    }

    /** {@code int(round(T - fraction·T))} in double, with Python's round-half-to-even. */
    private int discreteTimestepCutoff(double fraction) {
        return (int) Math.rint(numTrainTimesteps() - fraction * numTrainTimesteps());
    }

    /** The full schedule of the last {@code setTimesteps}, highest noise first (a copy). */
    float[] timesteps();

    /**
     * The noise level σ of each timestep plus the final level after the last step (length
     * {@code timesteps().length + 1}; a copy). For DDIM, which works with ᾱ instead, these are the
     * equivalent levels √((1−ᾱ)/ᾱ).
     */
    float[] sigmas();

    /** The standard deviation of the initial noise: pipelines multiply the drawn latents by it. */
    float initNoiseSigma();

    /** The denoiser input for {@code sample} at {@code timestep} (e.g. Euler divides by √(σ²+1)). */
    Tensor scaleModelInput(Tensor sample, float timestep);

    /**
     * One denoising step from {@code timestep}. Draws from {@code noise} only where the reference
     * draws (ancestral and SDE samplers, DDIM with η > 0, Euler with churn); {@code noise} may be null
     * for deterministic configurations.
     *
     * @throws IllegalArgumentException when the shapes of {@code modelOutput} and {@code sample} differ
     */
    SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise);

    /** Forward diffusion of {@code original} to the noise level of {@code timestep} with {@code noise}. */
    Tensor addNoise(Tensor original, Tensor noise, float timestep);

    /**
     * Where the next run starts in {@link #timesteps()} (diffusers' {@code set_begin_index}, called by
     * img2img pipelines before the loop). Cleared by {@code setTimesteps}.
     */
    void setBeginIndex(int beginIndex);

    /** The begin index, or -1 when unset. */
    int beginIndex();

    /** The index of the next step in {@link #timesteps()}, or -1 before the first step. */
    int stepIndex();
}
