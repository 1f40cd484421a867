package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.util.List;

/**
 * SDXL image-to-image with ControlNets, with PAG when enabled (diffusers'
 * {@code StableDiffusionXLControlNetImg2ImgPipeline} / {@code StableDiffusionXLControlNetPAGImg2ImgPipeline}):
 * the init image ({@link GenerationParams#image()}) is noised (default strength 0.8, as diffusers) to the strength-truncated schedule as in
 * {@link StableDiffusionXLImg2ImgPipeline}; the control image is separate and the guidance windows
 * count the truncated steps. Without a size the control image's size is used.
 */
public final class StableDiffusionXLControlNetImg2ImgPipeline extends SdxlPipeline {

    public StableDiffusionXLControlNetImg2ImgPipeline(SdxlComponents components, MultiControlNetModel controlnet,
            boolean pagEnabled, List<String> pagAppliedLayers) {
        super(components, java.util.Objects.requireNonNull(controlnet, "controlnet"), pagEnabled, pagAppliedLayers);
    }

    @Override
    protected boolean acceptsDenoisingEnd() {
        return false;
    }

    @Override
    protected boolean aestheticTimeIds() {
        return components.requiresAestheticsScore();
    }

    @Override
    protected Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        return StableDiffusionXLImg2ImgPipeline.imageStart(this, p, scheduler, h, w, n, 0.8f);
    }
}
