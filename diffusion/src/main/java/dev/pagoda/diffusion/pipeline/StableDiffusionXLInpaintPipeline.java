package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.Scheduler;
import java.util.List;

/**
 * SDXL inpainting, with PAG when enabled ({@code StableDiffusionXL(PAG)InpaintPipeline}): the start, the
 * random draws and the per-step blend of {@link InpaintStart} (default strength 0.9999). A 4-channel UNet
 * re-imposes the known region after every step; a 9-channel inpainting UNet instead takes the mask and
 * the masked-image latents as extra input.
 *
 * <p>Thread-safe: a call's blending state lives in its own {@code Start}, so concurrent calls (also on
 * {@code fromPipe} siblings) give the same results as sequential ones (see {@link SdxlPipeline}).
 */
public final class StableDiffusionXLInpaintPipeline extends SdxlPipeline {

    public StableDiffusionXLInpaintPipeline(SdxlComponents components, boolean pagEnabled,
            List<String> pagAppliedLayers) {
        super(components, pagEnabled, pagAppliedLayers);
    }

    @Override
    protected boolean aestheticTimeIds() {
        return components.requiresAestheticsScore();
    }

    @Override
    protected boolean acceptsLatents() {
        return true;
    }

    private boolean nineChannel() {
        return components.unet().config().inChannels() == 9;
    }

    @Override
    protected boolean acceptsDenoisingStart() {
        return true;
    }

    @Override
    protected Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        return InpaintStart.prepare(p, scheduler, components.vae(), this::encodeLatents, nineChannel(), true, 0.9999f,
                h, w, n);
    }
}
