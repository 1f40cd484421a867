package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;

/**
 * The result of one {@link Scheduler#step}.
 *
 * @param prevSample the sample at the next (lower-noise) timestep: the input of the next step
 * @param predOriginalSample the model's estimate of the clean sample x₀ at this step (for previews
 *     and guidance); for DPM-Solver++ this is the converted model output the solver integrates;
 *     LCM reports its denoised sample; null for PNDM, which estimates none
 */
public record SchedulerOutput(Tensor prevSample, Tensor predOriginalSample) {
}
