package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.nio.file.Path;
import java.util.List;

/**
 * diffusers' {@code AutoPipelineForText2Image}: the text-to-image pipeline of a model folder
 * ({@code model_index.json}), with PAG when {@code enablePag}: SDXL ({@code StableDiffusionXL[PAG]Pipeline})
 * or PixArt-Σ ({@code PixArtSigma[PAG]Pipeline}). {@link #load} picks the family from the folder;
 * {@link #fromPretrained} and {@link #fromPretrainedPixArt} return the family's own type.
 */
public final class AutoPipelineForText2Image {

    private AutoPipelineForText2Image() {
    }

    /** The folder's text-to-image pipeline, whichever family its {@code model_index.json} names. */
    public static DiffusionPipeline load(Path modelDir, PipelineOptions options) {
        return PixArtComponents.isPixArtFolder(modelDir) ? fromPretrainedPixArt(modelDir, options)
                : SdComponents.isSdFolder(modelDir) ? SdPipelines.text2Image(modelDir, options) // stable-diffusion-pag
                : fromPretrained(modelDir, options);
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
     * Loads an SDXL folder's parts and builds the text-to-image pipeline:
     * {@link StableDiffusionXLControlNetPipeline} when the options carry ControlNets, else
     * {@link StableDiffusionXLPipeline}.
     */
    public static SdxlPipeline fromPretrained(Path modelDir, PipelineOptions options) {
        if (PixArtComponents.isPixArtFolder(modelDir)) {
            throw new ConfigException(modelDir + ": a PixArt pipeline folder; load it with "
                    + "AutoPipelineForText2Image.load or fromPretrainedPixArt");
        }
        SdxlComponents c = SdxlComponents.load(modelDir, options.preferFp16(), options.vae(), options.unet());
        try {
            c.to(options.backend());
            MultiControlNetModel cn = c.attachControlNets(options.controlnet());
            return cn != null ? new StableDiffusionXLControlNetPipeline(c, cn, options.enablePag(),
                    options.pagAppliedLayers())
                    : new StableDiffusionXLPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Loads a PixArt-Σ folder: {@code PixArtSigmaPAGPipeline} when {@code enablePag} (layers: the
     * options', or diffusers' default {@code ["blocks.1"]} when null), else {@code PixArtSigmaPipeline}.
     */
    public static PixArtSigmaPipeline fromPretrainedPixArt(Path modelDir, PipelineOptions options) {
        if (options.vae() != null || options.unet() != null) {
            throw new ConfigException(modelDir + ": a separate VAE or UNet folder is taken for SDXL pipelines only");
        }
        PixArtComponents c = PixArtComponents.load(modelDir, options.preferFp16());
        try {
            c.to(options.backend());
            return options.enablePag() ? new PixArtSigmaPAGPipeline(c, options.pagAppliedLayers())
                    : new PixArtSigmaPipeline(c, false, options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * diffusers' {@code from_single_file}: the text-to-image pipeline of one original-layout checkpoint
     * ({@code sd_xl_base_1.0.safetensors}), its family detected from the keys, with the configs and
     * tokenizers Pagoda ships for that family. The weights are views of the mapped file (no copies).
     */
    public static StableDiffusionXLPipeline fromSingleFile(Path checkpoint, PipelineOptions options) {
        return fromSingleFile(checkpoint, null, options);
    }

    /**
     * As {@link #fromSingleFile(Path, PipelineOptions)}, with configs and tokenizers from the diffusers
     * folder {@code config} (diffusers' {@code config=}; its weights are not read), or the shipped ones
     * when it is null.
     */
    public static StableDiffusionXLPipeline fromSingleFile(Path checkpoint, Path config, PipelineOptions options) {
        SdxlComponents c = SdxlSingleFile.load(checkpoint, config);
        try {
            c.to(options.backend());
            return new StableDiffusionXLPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The text-to-image pipeline over the same loaded modules as {@code pipe} (no weight is loaded or
     * copied again), keeping its PAG layers and its ControlNets (a ControlNet pipeline gives
     * {@link StableDiffusionXLControlNetPipeline}, as diffusers' {@code from_pipe}).
     *
     * <p>The new pipeline and {@code pipe} may run {@code generate} at the same time, each with its own
     * PAG layers and scales; closing either closes the shared weights once no call is running.
     */
    public static SdxlPipeline fromPipe(SdxlPipeline pipe, boolean enablePag) {
        return fromPipe(pipe, enablePag, pipe.pagAppliedLayers(), pipe.controlnet());
    }

    /** As {@link #fromPipe(SdxlPipeline, boolean)}, with other PAG layers. */
    public static SdxlPipeline fromPipe(SdxlPipeline pipe, boolean enablePag, List<String> pagAppliedLayers) {
        return fromPipe(pipe, enablePag, pagAppliedLayers, pipe.controlnet());
    }

    /**
     * As {@link #fromPipe(SdxlPipeline, boolean, List)} with these ControlNets instead of {@code pipe}'s
     * (null: none, diffusers' {@code from_pipe(pipe, controlnet=None)}); new nets are attached to the
     * shared components and closed with them.
     */
    public static SdxlPipeline fromPipe(SdxlPipeline pipe, boolean enablePag, List<String> pagAppliedLayers,
            MultiControlNetModel controlnet) {
        if (controlnet != null && controlnet != pipe.controlnet()) {
            pipe.components().attachControlNets(controlnet.nets());
        }
        return controlnet != null
                ? new StableDiffusionXLControlNetPipeline(pipe.components(), controlnet, enablePag, pagAppliedLayers)
                : new StableDiffusionXLPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }

    /** The PixArt-Σ pipeline (PAG variant when {@code enablePag}) over {@code pipe}'s loaded modules. */
    public static PixArtSigmaPipeline fromPipe(PixArtSigmaPipeline pipe, boolean enablePag) {
        return fromPipe(pipe, enablePag, pipe.pagAppliedLayers());
    }

    /** As {@link #fromPipe(PixArtSigmaPipeline, boolean)}, with other PAG layers. */
    public static PixArtSigmaPipeline fromPipe(PixArtSigmaPipeline pipe, boolean enablePag, List<String> pagAppliedLayers) {
        return enablePag ? new PixArtSigmaPAGPipeline(pipe.components(), pagAppliedLayers)
                : new PixArtSigmaPipeline(pipe.components(), false, pagAppliedLayers);
    }
}
