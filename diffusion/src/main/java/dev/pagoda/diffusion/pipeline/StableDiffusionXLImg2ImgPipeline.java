package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * SDXL image-to-image, with PAG when enabled ({@code StableDiffusionXL(PAG)Img2ImgPipeline}): the
 * image is VAE-encoded (draw #0 samples the latent distribution), scaled, and noised to the first
 * timestep of the strength-truncated schedule (draw #1).
 *
 * <p>Thread-safe: concurrent {@code generate} calls, also on {@code fromPipe} siblings, give the same
 * results as sequential ones (see {@link SdxlPipeline}).
 */
public final class StableDiffusionXLImg2ImgPipeline extends SdxlPipeline {

    public StableDiffusionXLImg2ImgPipeline(SdxlComponents components, boolean pagEnabled,
            List<String> pagAppliedLayers) {
        super(components, pagEnabled, pagAppliedLayers);
    }

    @Override
    protected Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        return imageStart(this, p, scheduler, h, w, n, 0.3f);
    }

    /**
     * The image-to-image start (shared with the ControlNet image-to-image pipeline, whose default
     * strength is 0.8 where this pipeline's is 0.3).
     */
    static Start imageStart(SdxlPipeline pipe, GenerationParams p, Scheduler scheduler, int h, int w, int n,
            float defaultStrength) {
        SdxlComponents components = pipe.components();
        requireImage("image", p.image(), 3, h, w);
        float strength = p.strength() == null ? defaultStrength : p.strength();
        float[] ts = scheduler.setTimesteps(p.numInferenceSteps(), strength);
        AutoencoderKL vae = components.vae();
        int lat = vae.config().latentChannels();
        Tensor imageLatents;
        if (p.noise() instanceof dev.pagoda.tensor.random.PerImageNoise) {
            // diffusers with a list of generators: image i is encoded on its own, sampled with generator i
            imageLatents = vae.scaleLatents(pipe.encodeLatents(repeat(p.image(), n),
                    p.noise().next(n, lat, h / vae.scale(), w / vae.scale())));
        } else {
            imageLatents = repeat(vae.scaleLatents(pipe.encodeLatents(p.image(), p.noise().next(
                    1, lat, h / vae.scale(), w / vae.scale()))), n);
        }
        Tensor noise = p.noise().next(imageLatents.shape());
        return new Start(scheduler.addNoise(imageLatents, noise, ts[0]), ts);
    }
}
