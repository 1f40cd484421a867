package dev.pagoda.diffusion.pipeline;

import java.nio.file.Path;
import java.util.List;

/**
 * The SD 1.x/2.x entries of the AutoPipelines (diffusers' {@code stable-diffusion} /
 * {@code stable-diffusion-pag} mappings): the folder's parts loaded once, the PAG pipeline built with
 * PAG on when {@code enablePag}, and {@code fromPipe} over the same loaded modules.
 */
public final class SdPipelines {

    private SdPipelines() {
    }

    /** {@code AutoPipelineForText2Image.from_pretrained} of an SD 1.x/2.x folder. */
    public static StableDiffusionPAGPipeline text2Image(Path dir, PipelineOptions options) {
        SdComponents c = load(dir, options);
        return new StableDiffusionPAGPipeline(c, options.enablePag(), options.pagAppliedLayers());
    }

    /** {@code AutoPipelineForImage2Image.from_pretrained} of an SD 1.x/2.x folder. */
    public static StableDiffusionPAGImg2ImgPipeline image2Image(Path dir, PipelineOptions options) {
        SdComponents c = load(dir, options);
        return new StableDiffusionPAGImg2ImgPipeline(c, options.enablePag(), options.pagAppliedLayers());
    }

    /** The image-to-image pipeline over {@code pipe}'s loaded modules (no reload), with these PAG settings. */
    public static StableDiffusionPAGImg2ImgPipeline image2Image(StableDiffusionPAGPipeline pipe, boolean enablePag,
            List<String> pagAppliedLayers) {
        return new StableDiffusionPAGImg2ImgPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }

    /** The text-to-image pipeline over {@code pipe}'s loaded modules (no reload), with these PAG settings. */
    public static StableDiffusionPAGPipeline text2Image(StableDiffusionPAGPipeline pipe, boolean enablePag,
            List<String> pagAppliedLayers) {
        return new StableDiffusionPAGPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }

    private static SdComponents load(Path dir, PipelineOptions options) {
        SdComponents c = SdComponents.load(dir, options.preferFp16());
        try {
            if (!options.controlnet().isEmpty()) {
                throw new IllegalArgumentException(dir + ": ControlNets are not supported for SD 1.x/2.x pipelines yet");
            }
            return c.to(options.backend());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }
}
