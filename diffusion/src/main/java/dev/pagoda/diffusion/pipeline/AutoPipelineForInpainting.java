package dev.pagoda.diffusion.pipeline;

import java.nio.file.Path;

/**
 * diffusers' {@code AutoPipelineForInpainting}: the SDXL inpainting pipeline of a model folder
 * ({@code model_index.json}), with PAG when {@code enablePag}; {@link #load} also maps SD 1.x/2.x folders with
 * ControlNets to {@link StableDiffusionControlNetPAGInpaintPipeline}.
 */
public final class AutoPipelineForInpainting {

    private AutoPipelineForInpainting() {
    }

    /**
     * The folder's inpainting pipeline, SDXL or SD 1.x/2.x with ControlNets ({@code stable-diffusion-controlnet-pag}:
     * {@link SdPipelines#inpaint(Path, PipelineOptions)}).
     */
    public static DiffusionPipeline load(Path modelDir, PipelineOptions options) {
        if (SdComponents.isSdFolder(modelDir)) {
            return SdPipelines.inpaint(modelDir, options);
        }
        if (!options.controlnet().isEmpty()) {
            throw new IllegalArgumentException(modelDir + ": SDXL ControlNet inpainting"
                    + " (StableDiffusionXLControlNetInpaintPipeline) is not in Pagoda yet");
        }
        return fromPretrained(modelDir, options);
    }

    /**
     * As {@link #fromPretrained(Path, PipelineOptions)} for a folder path or a Hugging Face repo id
     * already in the local cache ({@code "stabilityai/stable-diffusion-xl-base-1.0"}; see
     * {@link HuggingFaceCache#resolve}).
     */
    public static StableDiffusionXLInpaintPipeline fromPretrained(String modelOrRepoId, PipelineOptions options) {
        return fromPretrained(HuggingFaceCache.resolve(modelOrRepoId), options);
    }

    /** Loads the folder's parts and builds the inpainting pipeline. */
    public static StableDiffusionXLInpaintPipeline fromPretrained(Path modelDir, PipelineOptions options) {
        SdxlComponents c = SdxlComponents.load(modelDir, options.preferFp16(), options.vae(), options.unet());
        try {
            c.to(options.backend());
            return new StableDiffusionXLInpaintPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * diffusers' {@code from_single_file}: the inpainting pipeline of one original-layout checkpoint
     * ({@code sd_xl_base_1.0.safetensors}), its family detected from the keys, with the configs and
     * tokenizers Pagoda ships for that family. The weights are views of the mapped file (no copies).
     */
    public static StableDiffusionXLInpaintPipeline fromSingleFile(Path checkpoint, PipelineOptions options) {
        return fromSingleFile(checkpoint, null, options);
    }

    /**
     * As {@link #fromSingleFile(Path, PipelineOptions)}, with configs and tokenizers from the diffusers
     * folder {@code config} (diffusers' {@code config=}; its weights are not read), or the shipped ones
     * when it is null.
     */
    public static StableDiffusionXLInpaintPipeline fromSingleFile(Path checkpoint, Path config, PipelineOptions options) {
        SdxlComponents c = SdxlSingleFile.load(checkpoint, config);
        try {
            c.to(options.backend());
            return new StableDiffusionXLInpaintPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The inpainting pipeline over the same loaded modules as {@code pipe} (no weight is loaded or
     * copied again), keeping its PAG layers.
     *
     * <p>The new pipeline and {@code pipe} may run {@code generate} at the same time, each with its own
     * PAG layers and scales; closing either closes the shared weights once no call is running.
     */
    public static StableDiffusionXLInpaintPipeline fromPipe(SdxlPipeline pipe, boolean enablePag) {
        return new StableDiffusionXLInpaintPipeline(pipe.components(), enablePag, pipe.pagAppliedLayers());
    }

    /** As {@link #fromPipe(SdxlPipeline, boolean)}, with other PAG layers. */
    public static StableDiffusionXLInpaintPipeline fromPipe(SdxlPipeline pipe, boolean enablePag, java.util.List<String> pagAppliedLayers) {
        return new StableDiffusionXLInpaintPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }
}
