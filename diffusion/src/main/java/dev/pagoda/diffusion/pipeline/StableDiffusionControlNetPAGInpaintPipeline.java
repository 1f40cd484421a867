package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import java.util.List;

/**
 * SD 1.x/2.x inpainting with ControlNets and PAG (diffusers' {@code StableDiffusionControlNetPAGInpaintPipeline},
 * AutoPipelineForInpainting mapping {@code stable-diffusion-controlnet-pag}; with {@code pagEnabled} false the
 * same arithmetic as {@code StableDiffusionControlNetInpaintPipeline} without guess mode): the init image
 * ({@link GenerationParams#image()}) and mask ({@link GenerationParams#mask()}, white = repaint) start the loop
 * as {@link InpaintStart} (default strength 1.0 and controlnet_conditioning_scale 0.5, as diffusers), the control images are prepared and windowed as
 * in {@link StableDiffusionControlNetPAGPipeline}, the windows counting the strength-truncated steps. A 4-channel
 * UNet has the known region re-imposed after every step; a 9-channel inpainting UNet takes
 * {@code [latents, mask, masked-image latents]} while the nets see only the latents.
 *
 * <p>diffusers' pipeline has no {@code guess_mode} (the nets never run in it, whatever their
 * {@code global_pool_conditions}), no {@code guidance_rescale} and no custom {@code timesteps}/{@code sigmas}:
 * those are refused. Thread-safe as {@link StableDiffusionPAGPipeline}.
 */
public final class StableDiffusionControlNetPAGInpaintPipeline extends StableDiffusionPAGPipeline {

    /** @throws IllegalArgumentException when a net does not fit the UNet, or the UNet has neither 4 nor 9 inputs */
    public StableDiffusionControlNetPAGInpaintPipeline(SdComponents components, MultiControlNetModel controlnet,
            boolean pagEnabled, List<String> pagAppliedLayers) {
        super(components, java.util.Objects.requireNonNull(controlnet, "controlnet"), pagEnabled, pagAppliedLayers);
        int in = components.unet().config().inChannels();
        int lat = components.vae().config().latentChannels();
        // diffusers' check: latents + mask (1) + masked-image latents for 9 channels, else the latents alone
        if (in != lat && in != 2 * lat + 1) {
            throw new IllegalArgumentException("the UNet's in_channels is " + in + ": an inpainting pipeline needs "
                    + lat + " (the latents) or " + (2 * lat + 1) + " (latents, mask, masked-image latents)");
        }
    }

    @Override
    protected boolean textToImage() {
        return false;
    }

    @Override
    protected boolean acceptsLatents() {
        return true;
    }

    @Override
    protected boolean inpainting() {
        return true;
    }

    @Override
    protected String noGuessMode() {
        return "StableDiffusionControlNetPAGInpaintPipeline";
    }

    /** diffusers' {@code controlnet_conditioning_scale=0.5} of this pipeline (the text-to-image one has 1.0). */
    @Override
    protected float defaultConditioningScale() {
        return 0.5f;
    }

    private boolean nineChannel() {
        return components.unet().config().inChannels() != components.vae().config().latentChannels();
    }

    @Override
    protected SdxlPipeline.Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        if (p.guidanceRescale() != 0) {
            throw new IllegalArgumentException("guidanceRescale: diffusers' StableDiffusionControlNetPAGInpaintPipeline"
                    + " has no guidance_rescale");
        }
        if (p.timesteps() != null || p.sigmas() != null) {
            throw new IllegalArgumentException("timesteps/sigmas: diffusers' StableDiffusionControlNetPAGInpaintPipeline"
                    + " takes num_inference_steps only (no custom schedule)");
        }
        if (p.image() == null && p.paddingMaskCrop() == null) {
            throw new IllegalArgumentException("image (the init image) is required for inpainting");
        }
        AutoencoderKL vae = components.vae();
        Backend device = components.backend();
        InpaintStart.Encoder encoder = (img, noise) -> device.toHost(vae.encode(device.resident(img))
                .sample(device.resident(noise)));
        return InpaintStart.prepare(p, scheduler, vae, encoder, nineChannel(), false, 1.0f, h, w, n);
    }
}
