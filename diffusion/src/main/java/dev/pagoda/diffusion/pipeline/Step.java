package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * What a {@link GenerationParams.StepCallback} sees after a scheduler step, and what it may change:
 * as diffusers' {@code callback_on_step_end}, it may replace the latents the loop continues with
 * ({@link #setLatents}), and it may stop the run ({@link #cancel}), which then ends with a
 * {@link GenerationCancelledException} and produces nothing.
 */
public final class Step {

    private final int index;
    private final int steps;
    private final float timestep;
    private Tensor latents;
    private boolean cancelled;

    Step(int index, int steps, float timestep, Tensor latents) {
        this.index = index;
        this.steps = steps;
        this.timestep = timestep;
        this.latents = latents;
    }

    /** 0-based index of the step just taken. */
    public int index() {
        return index;
    }

    /** Number of steps the run takes. */
    public int steps() {
        return steps;
    }

    public float timestep() {
        return timestep;
    }

    /** The latents after this step (or those set by {@link #setLatents}). */
    public Tensor latents() {
        return latents;
    }

    /** Continues the loop with {@code next} instead, which must have the latents' shape. */
    public void setLatents(Tensor next) {
        if (next == null || !java.util.Arrays.equals(next.shape(), latents.shape())) {
            throw new IllegalArgumentException("step callback: latents must keep the shape "
                    + Shapes.str(latents.shape()) + ", got " + (next == null ? "null" : Shapes.str(next.shape())));
        }
        this.latents = next;
    }

    /** Stops the run after this step. */
    public void cancel() {
        this.cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }
}
