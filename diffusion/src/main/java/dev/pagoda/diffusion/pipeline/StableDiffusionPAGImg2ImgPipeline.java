package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Collections;
import java.util.List;

/**
 * Stable Diffusion 1.x / 2.x image-to-image with PAG (diffusers' {@code StableDiffusionPAGImg2ImgPipeline};
 * plain {@code StableDiffusionImg2ImgPipeline} with {@code pagEnabled} false): the image is VAE-encoded
 * (draw #0 samples the latent distribution), scaled by {@code scaling_factor}, and noised (draw #1) to
 * the first timestep of the strength-truncated schedule (default strength 0.8).
 */
public final class StableDiffusionPAGImg2ImgPipeline extends StableDiffusionPAGPipeline {

    public StableDiffusionPAGImg2ImgPipeline(SdComponents components, boolean pagEnabled,
            List<String> pagAppliedLayers) {
        super(components, pagEnabled, pagAppliedLayers);
    }

    @Override
    protected boolean textToImage() {
        return false;
    }

    @Override
    protected SdxlPipeline.Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        if (p.guidanceRescale() != 0) {
            throw new IllegalArgumentException("guidanceRescale: diffusers' StableDiffusionPAGImg2ImgPipeline has no"
                    + " guidance_rescale (text-to-image only)");
        }
        Tensor img = p.image();
        if (img == null || img.rank() != 4 || img.dim(0) != 1 || img.dim(1) != 3 || img.dim(2) != h || img.dim(3) != w) {
            throw new IllegalArgumentException("image must be [1, 3, " + h + ", " + w + "], got "
                    + (img == null ? "none" : Shapes.str(img.shape())));
        }
        float strength = p.strength() == null ? 0.8f : p.strength();
        scheduler.setSchedule(p.numInferenceSteps(), p.timesteps(), p.sigmas()); // retrieve_timesteps
        float[] ts = scheduler.keepStrengthTail(p.numInferenceSteps(), strength);
        AutoencoderKL vae = components.vae();
        Backend device = components.backend();
        boolean perImage = p.noise() instanceof dev.pagoda.tensor.random.PerImageNoise;
        if (perImage && n > 1) {
            // diffusers with a list of generators: image i is encoded on its own, sampled with generator i
            img = Backend.cpu().concat(0, Collections.nCopies(n, img).toArray(Tensor[]::new));
        }
        Tensor draw = p.noise().next(perImage ? n : 1, vae.config().latentChannels(), h / vae.scale(),
                w / vae.scale());
        Tensor latents = vae.scaleLatents(device.toHost(vae.encode(device.resident(img)).sample(device.resident(draw))));
        if (n > 1 && !perImage) {
            latents = Backend.cpu().concat(0, Collections.nCopies(n, latents).toArray(Tensor[]::new));
        }
        Tensor noise = p.noise().next(latents.shape());
        return new SdxlPipeline.Start(scheduler.addNoise(latents, noise, ts[0]), ts);
    }
}
