package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.util.List;

/**
 * SDXL text-to-image with ControlNets, with PAG when enabled (diffusers'
 * {@code StableDiffusionXLControlNetPipeline} / {@code StableDiffusionXLControlNetPAGPipeline}): the
 * text-to-image loop, each UNet call fed the nets' residuals for the call's control images
 * ({@link GenerationParams.Builder#controlNet}). Without a size the control image's size is used.
 *
 * <p>Thread-safe as every {@link SdxlPipeline}; the nets are shared read-only with {@code fromPipe}
 * siblings.
 */
public final class StableDiffusionXLControlNetPipeline extends SdxlPipeline {

    /**
     * @throws IllegalArgumentException when a net does not fit the UNet (cross-attention width,
     *                                  addition embedding, blocks)
     */
    public StableDiffusionXLControlNetPipeline(SdxlComponents components, MultiControlNetModel controlnet,
            boolean pagEnabled, List<String> pagAppliedLayers) {
        super(components, java.util.Objects.requireNonNull(controlnet, "controlnet"), pagEnabled, pagAppliedLayers);
    }

    @Override
    protected boolean textToImage() {
        return true;
    }

    @Override
    protected Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        return StableDiffusionXLPipeline.noiseStart(components, p, scheduler, h, w, n);
    }
}
