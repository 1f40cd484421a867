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
        if (p.timesteps() != null) {
            scheduler.setTimesteps(p.timesteps());
        } else if (p.sigmas() != null) {
            scheduler.setSigmas(p.sigmas());
        } else {
            scheduler.setTimesteps(p.numInferenceSteps());
        }
        int lat = components.unet().config().inChannels();
        int s = components.vae().scale();
        int[] shape = {n, lat, h / s, w / s};
        Tensor noise;
        if (p.latents() != null) {
            if (!java.util.Arrays.equals(p.latents().shape(), shape)) {
                throw new IllegalArgumentException("latents must be " + dev.pagoda.tensor.Shapes.str(shape)
                        + " (prompts x images per prompt, latent channels, height / " + s + ", width / " + s
                        + "), got " + dev.pagoda.tensor.Shapes.str(p.latents().shape()));
            }
            noise = p.latents().contiguous();
        } else {
            noise = p.noise().next(shape);
        }
        Tensor latents = Backend.cpu().affine(noise, scheduler.initNoiseSigma(), 0f);
        return new Start(latents, scheduler.timesteps());
    }
}
