package dev.pagoda.diffusion.pipeline;

/**
 * The denoising loop met a NaN or infinity (in the noise prediction or the latents): the run stops
 * instead of decoding a black image. The message names the step and, for the prediction, the
 * first UNet block whose output is non-finite (and any non-finite weight in it).
 */
public final class NonFiniteException extends RuntimeException {

    private final int step;
    private final String module;

    public NonFiniteException(String message, int step, String module) {
        super(message);
        this.step = step;
        this.module = module;
    }

    /** 0-based step where it appeared. */
    public int step() {
        return step;
    }

    /** The module where it first appeared, or null when not located (latents after the scheduler step). */
    public String module() {
        return module;
    }
}
