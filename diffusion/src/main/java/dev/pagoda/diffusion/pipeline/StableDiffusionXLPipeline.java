package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * SDXL text-to-image, with PAG when enabled (diffusers' {@code StableDiffusionXLPipeline} /
 * {@code StableDiffusionXLPAGPipeline}): the loop starts from noise scaled by the scheduler's
 * initial sigma — the only random draw.
 *
 * <p>Thread-safe: concurrent {@code generate} calls, also on {@code fromPipe} siblings, give the same
 * results as sequential ones (see {@link SdxlPipeline}).
 */
public final class StableDiffusionXLPipeline extends SdxlPipeline {

    public StableDiffusionXLPipeline(SdxlComponents components, boolean pagEnabled, List<String> pagAppliedLayers) {
        super(components, pagEnabled, pagAppliedLayers);
    }

    @Override
    protected Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        return noiseStart(components, p, scheduler, h, w, n);
    }

    @Override
    protected boolean textToImage() {
        return true;
    }

    /**
     * The text-to-image start (shared with the ControlNet pipeline): diffusers' {@code retrieve_timesteps}
     * (the step count, or custom timesteps or sigmas) and {@code prepare_latents} (a draw, or the
     * given latents), times the initial sigma.
     */
    static Start noiseStart(SdxlComponents components, GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        int s = components.vae().scale();
        return DenoiseLoop.noiseStart(p, scheduler, n, components.unet().config().inChannels(), h / s, w / s);
    }
}
