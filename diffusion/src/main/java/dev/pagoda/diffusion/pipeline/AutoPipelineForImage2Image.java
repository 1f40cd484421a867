package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.nio.file.Path;

/**
 * diffusers' {@code AutoPipelineForImage2Image}: the SDXL image-to-image pipeline of a model folder
 * ({@code model_index.json}), with PAG when {@code enablePag}.
 */
public final class AutoPipelineForImage2Image {

    private AutoPipelineForImage2Image() {
    }

    /**
     * As {@link #fromPretrained(Path, PipelineOptions)} for a folder path or a Hugging Face repo id
     * already in the local cache ({@code "stabilityai/stable-diffusion-xl-base-1.0"}; see
     * {@link HuggingFaceCache#resolve}).
     */
    public static SdxlPipeline fromPretrained(String modelOrRepoId, PipelineOptions options) {
        return fromPretrained(HuggingFaceCache.resolve(modelOrRepoId), options);
    }

    /**
     * Loads the folder's parts and builds the image-to-image pipeline:
     * {@link StableDiffusionXLControlNetImg2ImgPipeline} when the options carry ControlNets, else
     * {@link StableDiffusionXLImg2ImgPipeline}.
     */
    public static SdxlPipeline fromPretrained(Path modelDir, PipelineOptions options) {
        SdxlComponents c = SdxlComponents.load(modelDir, options.preferFp16(), options.vae(), options.unet());
        try {
            c.to(options.backend());
            MultiControlNetModel cn = c.attachControlNets(options.controlnet());
            return cn != null ? new StableDiffusionXLControlNetImg2ImgPipeline(c, cn, options.enablePag(),
                    options.pagAppliedLayers())
                    : new StableDiffusionXLImg2ImgPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The folder's image-to-image pipeline, SDXL or SD 1.x/2.x ({@code stable-diffusion-pag}). */
    public static DiffusionPipeline load(Path modelDir, PipelineOptions options) {
        return SdComponents.isSdFolder(modelDir) ? SdPipelines.image2Image(modelDir, options)
                : fromPretrained(modelDir, options);
    }

    /**
     * diffusers' {@code from_single_file}: the image-to-image pipeline of one original-layout checkpoint
     * ({@code sd_xl_base_1.0.safetensors}), its family detected from the keys, with the configs and
     * tokenizers Pagoda ships for that family. The weights are views of the mapped file (no copies).
     */
    public static StableDiffusionXLImg2ImgPipeline fromSingleFile(Path checkpoint, PipelineOptions options) {
        return fromSingleFile(checkpoint, null, options);
    }

    /**
     * As {@link #fromSingleFile(Path, PipelineOptions)}, with configs and tokenizers from the diffusers
     * folder {@code config} (diffusers' {@code config=}; its weights are not read), or the shipped ones
     * when it is null.
     */
    public static StableDiffusionXLImg2ImgPipeline fromSingleFile(Path checkpoint, Path config, PipelineOptions options) {
        SdxlComponents c = SdxlSingleFile.load(checkpoint, config);
        try {
            c.to(options.backend());
            return new StableDiffusionXLImg2ImgPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The image-to-image pipeline over the same loaded modules as {@code pipe} (no weight is loaded or
     * copied again), keeping its PAG layers and its ControlNets (a ControlNet pipeline gives
     * {@link StableDiffusionXLControlNetImg2ImgPipeline}, as diffusers' {@code from_pipe}).
     *
     * <p>The new pipeline and {@code pipe} may run {@code generate} at the same time, each with its own
     * PAG layers and scales; closing either closes the shared weights once no call is running.
     */
    public static SdxlPipeline fromPipe(SdxlPipeline pipe, boolean enablePag) {
        return fromPipe(pipe, enablePag, pipe.pagAppliedLayers());
    }

    /** As {@link #fromPipe(SdxlPipeline, boolean)}, with other PAG layers. */
    public static SdxlPipeline fromPipe(SdxlPipeline pipe, boolean enablePag, java.util.List<String> pagAppliedLayers) {
        return pipe.controlnet() != null
                ? new StableDiffusionXLControlNetImg2ImgPipeline(pipe.components(), pipe.controlnet(), enablePag,
                        pagAppliedLayers)
                : new StableDiffusionXLImg2ImgPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }
}
