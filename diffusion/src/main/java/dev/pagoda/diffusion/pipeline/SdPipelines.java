package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.controlnet.MultiControlNetModel;
import java.nio.file.Path;
import java.util.List;

/**
 * The SD 1.x/2.x entries of the AutoPipelines (diffusers' {@code stable-diffusion} /
 * {@code stable-diffusion-pag} / {@code stable-diffusion-controlnet-pag} mappings): the folder's parts loaded once, the PAG pipeline built with
 * PAG on when {@code enablePag}, and {@code fromPipe} over the same loaded modules.
 */
public final class SdPipelines {

    private SdPipelines() {
    }

    /** {@code AutoPipelineForText2Image.from_pretrained} of an SD 1.x/2.x folder. */
    public static StableDiffusionPAGPipeline text2Image(Path dir, PipelineOptions options) {
        SdComponents c = SdComponents.load(dir, options.preferFp16(), options.unet());
        try {
            c.to(options.backend());
            MultiControlNetModel cn = c.attachControlNets(options.controlnet());
            return cn != null // stable-diffusion-controlnet-pag
                    ? new StableDiffusionControlNetPAGPipeline(c, cn, options.enablePag(), options.pagAppliedLayers())
                    : new StableDiffusionPAGPipeline(c, options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
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

    /**
     * The text-to-image pipeline over {@code pipe}'s loaded modules (no reload), with these PAG settings and
     * {@code pipe}'s ControlNets, if any.
     */
    public static StableDiffusionPAGPipeline text2Image(StableDiffusionPAGPipeline pipe, boolean enablePag,
            List<String> pagAppliedLayers) {
        return pipe.controlnet() != null
                ? new StableDiffusionControlNetPAGPipeline(pipe.components(), pipe.controlnet(), enablePag,
                        pagAppliedLayers)
                : new StableDiffusionPAGPipeline(pipe.components(), enablePag, pagAppliedLayers);
    }

    /**
     * diffusers' {@code from_pipe(pipe, controlnet=...)}: the ControlNet text-to-image pipeline over
     * {@code pipe}'s loaded modules; the nets move to its backend and close with its weights.
     *
     * @throws IllegalArgumentException when a net does not fit the UNet
     */
    public static StableDiffusionControlNetPAGPipeline text2Image(StableDiffusionPAGPipeline pipe, boolean enablePag,
            List<String> pagAppliedLayers, List<dev.pagoda.nn.controlnet.ControlNetModel> nets) {
        MultiControlNetModel cn = pipe.components().attachControlNets(nets);
        if (cn == null) {
            throw new IllegalArgumentException("no ControlNet given");
        }
        return new StableDiffusionControlNetPAGPipeline(pipe.components(), cn, enablePag, pagAppliedLayers);
    }

    /**
     * {@code AutoPipelineForInpainting.from_pretrained(dir, controlnet=...)} of an SD 1.x/2.x folder
     * ({@code stable-diffusion-controlnet-pag}): the ControlNet inpainting pipeline, for a 4-channel UNet or a
     * 9-channel inpainting UNet ({@code options.unet(dir)}: diffusers' {@code unet=}).
     *
     * @throws IllegalArgumentException without ControlNets (Pagoda has no plain SD inpainting pipeline), or when a
     *                                  net does not fit the UNet
     */
    public static StableDiffusionControlNetPAGInpaintPipeline inpaint(Path dir, PipelineOptions options) {
        if (options.controlnet().isEmpty()) {
            throw new IllegalArgumentException(dir + ": SD 1.x/2.x inpainting is supported with ControlNets"
                    + " (StableDiffusionControlNetPAGInpaintPipeline: PipelineOptions.controlnet), not without yet");
        }
        SdComponents c = SdComponents.load(dir, options.preferFp16(), options.unet());
        try {
            c.to(options.backend());
            return new StableDiffusionControlNetPAGInpaintPipeline(c, c.attachControlNets(options.controlnet()),
                    options.enablePag(), options.pagAppliedLayers());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The ControlNet inpainting pipeline over {@code pipe}'s loaded modules and ControlNets (no reload), with
     * these PAG settings (diffusers' {@code AutoPipelineForInpainting.from_pipe}).
     *
     * @throws IllegalArgumentException when {@code pipe} has no ControlNets
     */
    public static StableDiffusionControlNetPAGInpaintPipeline inpaint(StableDiffusionPAGPipeline pipe,
            boolean enablePag, List<String> pagAppliedLayers) {
        if (pipe.controlnet() == null) {
            throw new IllegalArgumentException("SD 1.x/2.x inpainting needs ControlNets: use"
                    + " inpaint(pipe, enablePag, pagAppliedLayers, nets)");
        }
        return new StableDiffusionControlNetPAGInpaintPipeline(pipe.components(), pipe.controlnet(), enablePag,
                pagAppliedLayers);
    }

    /**
     * diffusers' {@code AutoPipelineForInpainting.from_pipe(pipe, controlnet=...)}: the ControlNet inpainting
     * pipeline over {@code pipe}'s loaded modules; the nets move to its backend and close with its weights.
     *
     * @throws IllegalArgumentException when a net does not fit the UNet
     */
    public static StableDiffusionControlNetPAGInpaintPipeline inpaint(StableDiffusionPAGPipeline pipe,
            boolean enablePag, List<String> pagAppliedLayers, List<dev.pagoda.nn.controlnet.ControlNetModel> nets) {
        MultiControlNetModel cn = pipe.components().attachControlNets(nets);
        if (cn == null) {
            throw new IllegalArgumentException("no ControlNet given");
        }
        return new StableDiffusionControlNetPAGInpaintPipeline(pipe.components(), cn, enablePag, pagAppliedLayers);
    }

    private static SdComponents load(Path dir, PipelineOptions options) {
        SdComponents c = SdComponents.load(dir, options.preferFp16(), options.unet());
        try {
            if (!options.controlnet().isEmpty()) {
                throw new IllegalArgumentException(dir + ": ControlNets with SD 1.x/2.x are supported for text-to-image"
                        + " (StableDiffusionControlNetPAGPipeline) and inpainting (SdPipelines.inpaint), not for"
                        + " image-to-image yet");
            }
            return c.to(options.backend());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }
}
