package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.util.List;

/**
 * SD 1.x/2.x text-to-image with ControlNets and PAG (diffusers' {@code StableDiffusionControlNetPAGPipeline},
 * AutoPipeline mapping {@code stable-diffusion-controlnet-pag}): the text-to-image loop with each net's
 * residuals added to the UNet's skip connections, scaled and windowed per step as in the SDXL ControlNet
 * pipeline. Thread-safe as {@link StableDiffusionPAGPipeline}.
 */
public final class StableDiffusionControlNetPAGPipeline extends StableDiffusionPAGPipeline {

    /** @throws IllegalArgumentException when a net does not fit the UNet */
    public StableDiffusionControlNetPAGPipeline(SdComponents components, MultiControlNetModel controlnet,
            boolean pagEnabled, List<String> pagAppliedLayers) {
        super(components, java.util.Objects.requireNonNull(controlnet, "controlnet"), pagEnabled, pagAppliedLayers);
    }
}
