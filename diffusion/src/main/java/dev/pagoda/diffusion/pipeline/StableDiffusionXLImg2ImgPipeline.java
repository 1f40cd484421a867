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
 * <p>The refiner of an ensemble of experts: with {@code denoising_start} the schedule starts at that
 * fraction (strength is ignored) and no noise is added (no draw #1); an {@code image} with the VAE's
 * latent channels ({@code [1, 4, H/8, W/8]}, e.g. the base's {@code OutputType.LATENT} result) is taken
 * as the latents themselves, unscaled and not encoded (no draw #0), as diffusers does.
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

    @Override
    protected boolean acceptsLatents() {
        return true;
    }

    @Override
    protected boolean acceptsDenoisingStart() {
        return true;
    }

    @Override
    protected boolean aestheticTimeIds() {
        return components.requiresAestheticsScore();
    }

    /**
     * The image-to-image start (shared with the ControlNet image-to-image pipeline, whose default
     * strength is 0.8 where this pipeline's is 0.3).
     */
    static Start imageStart(SdxlPipeline pipe, GenerationParams p, Scheduler scheduler, int h, int w, int n,
            float defaultStrength) {
        SdxlComponents components = pipe.components();
        AutoencoderKL vae = components.vae();
        int lat = vae.config().latentChannels();
        boolean latentInput = isLatents(p.image(), lat);
        if (latentInput) {
            requireImage("image (latents)", p.image(), lat, h / vae.scale(), w / vae.scale());
        } else {
            requireImage("image", p.image(), 3, h, w);
        }
        scheduler.setSchedule(p.numInferenceSteps(), p.timesteps(), p.sigmas());
        float[] ts = p.denoisingStart() != null
                ? scheduler.keepBelowDenoisingStart(p.numInferenceSteps(), p.denoisingStart())
                : scheduler.keepStrengthTail(p.numInferenceSteps(), p.strength() == null ? defaultStrength : p.strength());
        Tensor given = DenoiseLoop.givenLatents(p, new int[] {n, lat, h / vae.scale(), w / vae.scale()});
        if (given != null) {
            // diffusers: given latents are the start as they are (no encode, no noise; the image goes unused)
            return new Start(given, ts);
        }
        Tensor imageLatents;
        if (latentInput) {
            imageLatents = repeat(p.image(), n);
        } else if (p.noise() instanceof dev.pagoda.tensor.random.PerImageNoise) {
            // diffusers with a list of generators: image i is encoded on its own, sampled with generator i
            imageLatents = vae.scaleLatents(pipe.encodeLatents(repeat(p.image(), n),
                    p.noise().next(n, lat, h / vae.scale(), w / vae.scale())));
        } else {
            imageLatents = repeat(vae.scaleLatents(pipe.encodeLatents(p.image(), p.noise().next(
                    1, lat, h / vae.scale(), w / vae.scale()))), n);
        }
        if (p.denoisingStart() != null) {
            // diffusers: add_noise = denoising_start is None; the latents are already at that noise level
            return new Start(imageLatents, ts);
        }
        Tensor noise = p.noise().next(imageLatents.shape());
        return new Start(scheduler.addNoise(imageLatents, noise, ts[0]), ts);
    }

    /** diffusers' {@code image.shape[1] == 4} test: a 4-D tensor with the VAE's latent channels is latents. */
    static boolean isLatents(Tensor image, int latentChannels) {
        return image != null && image.rank() == 4 && image.dim(1) == latentChannels && latentChannels != 3;
    }
}
