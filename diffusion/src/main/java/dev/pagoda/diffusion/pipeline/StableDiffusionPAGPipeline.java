package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerChoice;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.diffusion.controlnet.ControlNetConditioning;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Stable Diffusion 1.x / 2.x text-to-image with PAG (diffusers' {@code StableDiffusionPAGPipeline};
 * with {@code pagEnabled} false, the plain {@code StableDiffusionPipeline}): one CLIP encoder
 * ({@link SdPromptEncoder}: a missing negative prompt is {@code ""} encoded), the batch
 * {@code [uncond, cond, perturbed]} of {@link GuidedBatch}, default PAG layers {@code ["mid"]}, the
 * scheduler of the model's {@code scheduler_config.json} (PNDM for SD 1.5; DDIM/Euler with
 * {@code v_prediction} for SD 2.x 768), {@code guidance_rescale}, and the shared {@link DenoiseLoop}.
 * The loop starts from noise times the scheduler's initial sigma (the one random draw);
 * {@link StableDiffusionPAGImg2ImgPipeline} starts from a noised image instead.
 *
 * <p>Thread-safe as {@link SdxlPipeline}: every call builds its own scheduler, guidance plan and
 * conditioning; the shared modules are read only.
 */
public class StableDiffusionPAGPipeline implements DiffusionPipeline {

    private record PagSelection(List<String> layers, PagLayers.Mode mode, List<Attention> modules) {
    }

    protected final SdComponents components;
    private final MultiControlNetModel controlnet;
    private final Shares.Share share;
    private final boolean pagEnabled;
    private volatile PagSelection pag;
    private volatile SchedulerChoice schedulerChoice = SchedulerChoice.MODEL;
    private volatile SdxlPipeline.DenoiserObserver observer;
    private volatile SdxlPipeline.StageListener stages = name -> { };

    /** @param pagAppliedLayers PAG layer patterns (null: {@code ["mid"]}, diffusers' default) */
    public StableDiffusionPAGPipeline(SdComponents components, boolean pagEnabled, List<String> pagAppliedLayers) {
        this(components, null, pagEnabled, pagAppliedLayers);
    }

    /** With ControlNets (diffusers' {@code StableDiffusionControlNetPAGPipeline}); {@code controlnet} null for none. */
    protected StableDiffusionPAGPipeline(SdComponents components, MultiControlNetModel controlnet, boolean pagEnabled,
            List<String> pagAppliedLayers) {
        this.components = components;
        this.controlnet = controlnet;
        if (controlnet != null) {
            controlnet.checkCompatible(components.unet());
        }
        this.pagEnabled = pagEnabled;
        setPagAppliedLayers(pagAppliedLayers == null ? List.of("mid") : pagAppliedLayers, PagLayers.Mode.DIFFUSERS);
        this.share = components.share();
    }

    public SdComponents components() {
        return components;
    }

    /** The pipeline's ControlNets, or null for a pipeline without. */
    public MultiControlNetModel controlnet() {
        return controlnet;
    }

    /** Whether this pipeline starts from noise. */
    protected boolean textToImage() {
        return true;
    }

    /** Whether the call may give {@code latents} (text-to-image, and inpainting as diffusers' noise). */
    protected boolean acceptsLatents() {
        return textToImage();
    }

    /** Whether the call takes a {@code mask} (the inpainting pipeline). */
    protected boolean inpainting() {
        return false;
    }

    /**
     * The diffusers class name when this pipeline has no {@code guess_mode} (then the nets never run in
     * guess mode), or null when it has one.
     */
    protected String noGuessMode() {
        return null;
    }

    /** {@code controlnet_conditioning_scale} when the call gives none (diffusers' default of this pipeline). */
    protected float defaultConditioningScale() {
        return 1f;
    }

    public boolean pagEnabled() {
        return pagEnabled;
    }

    @Override
    public AutoencoderKL vae() {
        return components.vae();
    }

    @Override
    public int defaultImageSize() {
        return components.unet().config().sampleSize() * components.vae().scale();
    }

    @Override
    public List<String> pagAppliedLayers() {
        return pag.layers();
    }

    @Override
    public void setPagAppliedLayers(List<String> layers, PagLayers.Mode mode) {
        this.pag = new PagSelection(List.copyOf(layers), mode, PagLayers.modules(components.unet(), layers, mode));
    }

    /** A scheduler class (null = the model's) with overrides of the model's scheduler config. */
    @Override
    public void setScheduler(SchedulerChoice choice) {
        this.schedulerChoice = choice == null ? SchedulerChoice.MODEL : choice;
    }

    public void setObserver(SdxlPipeline.DenoiserObserver observer) {
        this.observer = observer;
    }

    @Override
    public void setStageListener(SdxlPipeline.StageListener listener) {
        this.stages = listener == null ? name -> { } : listener;
    }

    /**
     * Runs the pipeline (thread-safe).
     *
     * @throws IllegalArgumentException     for parameters SD pipelines do not have (named), or a bad size
     * @throws GenerationCancelledException when cancelled
     * @throws NonFiniteException           at the first NaN/inf prediction or latent (unless turned off)
     * @throws IllegalStateException        when the components are closed
     */
    @Override
    public GenerationResult generate(GenerationParams p) {
        share.checkOpen();
        components.acquire();
        try {
            // the call's LoRA scale reaches the adapters of the modules this thread runs
            return ScopedValue.where(dev.pagoda.nn.layers.LowRankAdapters.CALL_SCALE, p.loraScale())
                    .call(() -> run(p));
        } finally {
            components.release();
        }
    }

    private GenerationResult run(GenerationParams p) {
        rejectOthers(p, inpainting());
        PagSelection selection = pag;
        SdxlPipeline.DenoiserObserver obs = observer;
        SdxlPipeline.StageListener stage = stages;
        Scheduler scheduler = schedulerChoice.build(components.schedulerConfig());
        UNet2DConditionModel unet = components.unet();
        int[] hw = resolveSize(p);
        if (!acceptsLatents() && p.latents() != null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": latents are supported by the"
                    + " text-to-image and inpainting pipelines (an image-to-image start comes from the image)");
        }
        // diffusers' batch_size * num_images_per_prompt, prompt-major
        int n = p.batchSize() * p.numImagesPerPrompt();
        Guidance g = new Guidance(p.guidanceScale(), pagEnabled ? p.pagScale() : 0f, p.pagAdaptiveScale(),
                p.guidanceRescale(), pagEnabled && !selection.modules().isEmpty());
        GuidedBatch batch = GuidedBatch.of(g, n, selection.modules());
        Backend device = components.backend();
        ControlNetParams controlParams = p.controlNet();
        if (p.paddingMaskCrop() != null && controlParams != null) {
            // diffusers crops and "fill"-resizes the control images with the init image and mask
            GenerationParams.PaddingMaskCrop c = p.paddingMaskCrop();
            dev.pagoda.diffusion.image.MaskCrop box = dev.pagoda.diffusion.image.MaskCrop.region(c.maskImage(), hw[1],
                    hw[0], c.padding());
            controlParams = controlParams.withImages(controlParams.images().stream()
                    .map(img -> box.cropped(img, hw[1], hw[0])).toList());
        }
        ControlNetConditioning control = ControlNetParams.prepare(controlnet, controlParams, batch, hw[0], hw[1],
                device, "SdPipelines.text2Image or SdPipelines.inpaint with PipelineOptions.controlnet", noGuessMode(),
                defaultConditioningScale());
        stage.stage("encode prompt");
        SdPromptEncoder.Encoded enc = encodePrompt(p, g.cfg());
        if (scheduler instanceof dev.pagoda.diffusion.scheduler.EtaScheduler eta) {
            eta.setEta(p.eta());
        }
        SdxlPipeline.Start start = prepare(p, scheduler, hw[0], hw[1], n);
        int per = p.numImagesPerPrompt();
        Tensor ehs = device.resident(batch.conditioning(g.cfg() ? DenoiseLoop.perImage(enc.negative(), per) : null,
                DenoiseLoop.perImage(enc.positive(), per)));
        stage.stage("denoise");
        Tensor latents = DenoiseLoop.run(p, scheduler, batch, start, unet, device, obs, (i, steps, x, t) -> {
            UNet2DConditionModel.Input in = new UNet2DConditionModel.Input(x, new float[] {t}, ehs, null, null,
                    batch.pagPlan(), null, null, IpAdapterPlan.NONE);
            return control != null ? control.apply(in, i, steps) : in;
        });
        int total = start.timesteps().length;
        DenoiseLoop.stopIfCancelled(p, total, total);
        Tensor image = null;
        if (p.outputType() == GenerationParams.OutputType.IMAGE) {
            stage.stage("decode");
            image = start.finishImage(
                    device.toHost(components.vae().decode(device.resident(components.vae().unscale(latents)))));
        }
        DenoiseLoop.stopIfCancelled(p, total, total);
        return new GenerationResult(latents, image, GenerationResult.describe(p, getClass().getSimpleName(),
                scheduler.getClass().getSimpleName(),
                g.pag() ? PagLayers.describe(selection.layers(), selection.mode()) : null, hw[0], hw[1]));
    }

    /**
     * SD's {@code encode_prompt}: the given {@code prompt_embeds} / {@code negative_prompt_embeds} or the
     * encoded prompts (a missing negative prompt is {@code ""}), {@code [batchSize, 77, hidden]} each.
     */
    private SdPromptEncoder.Encoded encodePrompt(GenerationParams p, boolean cfg) {
        int hidden = components.unet().config().crossAttentionDim();
        Tensor pos;
        if (p.promptEmbeds() != null) {
            if (p.clipSkip() != null) {
                throw new IllegalArgumentException("clipSkip (clip_skip) applies to encoded prompts, not to the given"
                        + " promptEmbeds");
            }
            pos = requireHidden("promptEmbeds", p.promptEmbeds(), hidden);
        } else {
            pos = components.promptEncoder().encode(p.promptBatch(), null, false, p.clipSkip()).positive();
        }
        if (!cfg) {
            return new SdPromptEncoder.Encoded(pos, null);
        }
        Tensor neg = p.negativePromptEmbeds() != null
                ? requireHidden("negativePromptEmbeds", p.negativePromptEmbeds(), hidden)
                : components.promptEncoder().encode(p.negativePromptBatch().stream().map(x -> x == null ? "" : x)
                        .toList(), null, false, null).positive();
        return new SdPromptEncoder.Encoded(pos, neg);
    }

    private static Tensor requireHidden(String what, Tensor t, int hidden) {
        if (t.dim(2) != hidden) {
            throw new IllegalArgumentException(what + " have " + t.dim(2) + " channels but the UNet's"
                    + " cross_attention_dim is " + hidden);
        }
        return t.contiguous();
    }

    /** Where the loop starts: here pure noise times the initial sigma. */
    protected SdxlPipeline.Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n) {
        if (p.image() != null || p.strength() != null) {
            throw new IllegalArgumentException("StableDiffusionPAGPipeline is text-to-image: image/strength need "
                    + "StableDiffusionPAGImg2ImgPipeline (AutoPipelineForImage2Image)");
        }
        int s = components.vae().scale();
        return DenoiseLoop.noiseStart(p, scheduler, n, components.unet().config().inChannels(), h / s, w / s);
    }

    /** Height and width from the params, else the input image's, else the UNet's sample size × the VAE scale. */
    int[] resolveSize(GenerationParams p) {
        int dflt = defaultImageSize();
        int s = components.vae().scale();
        // with ControlNets the control image's size, rounded down to the VAE scale (diffusers' prepare_image)
        java.awt.image.BufferedImage control = controlnet != null && p.controlNet() != null
                ? p.controlNet().images().get(0) : null;
        // with padding_mask_crop the init image's size, rounded down likewise (get_default_height_width)
        java.awt.image.BufferedImage init = p.paddingMaskCrop() != null ? p.paddingMaskCrop().image() : null;
        int h = p.height() != null ? p.height() : init != null ? init.getHeight() / s * s
                : control != null ? control.getHeight() / s * s : p.image() != null ? p.image().dim(2) : dflt;
        int w = p.width() != null ? p.width() : init != null ? init.getWidth() / s * s
                : control != null ? control.getWidth() / s * s : p.image() != null ? p.image().dim(3) : dflt;
        int factor = components.vae().scale() << components.unet().downsamplings();
        if (h % factor != 0 || w % factor != 0) {
            throw new IllegalArgumentException("height and width must be multiples of " + factor + " for this model, got "
                    + h + "x" + w);
        }
        return new int[] {h, w};
    }

    /**
     * SD's {@code __call__} has one prompt, no SDXL micro-conditioning, and a mask only in inpainting: refuse
     * rather than ignore.
     */
    private static void rejectOthers(GenerationParams p, boolean inpainting) {
        List<String> bad = new ArrayList<>();
        if (p.prompt2() != null || p.negativePrompt2() != null) {
            bad.add("prompt2/negativePrompt2 (one text encoder)");
        }
        if (p.originalSize() != null || p.targetSize() != null || p.cropsCoordsTopLeft()[0] != 0
                || p.cropsCoordsTopLeft()[1] != 0) {
            bad.add("originalSize/targetSize/cropsCoordsTopLeft (SDXL micro-conditioning)");
        }
        if (p.prompts2() != null || p.negativePrompts2() != null) {
            bad.add("prompts2/negativePrompts2 (one text encoder)");
        }
        if (p.pooledPromptEmbeds() != null || p.negativePooledPromptEmbeds() != null) {
            bad.add("pooled prompt embeddings (SDXL's second encoder)");
        }
        if (p.negativeOriginalSize() != null || p.negativeCropsCoordsTopLeft() != null
                || p.negativeTargetSize() != null) {
            bad.add("negativeOriginalSize/negativeCropsCoordsTopLeft/negativeTargetSize (SDXL micro-conditioning)");
        }
        if (p.maskedImageLatents() != null) {
            bad.add("maskedImageLatents (diffusers' SD ControlNet inpainting has no masked_image_latents)");
        }
        if (p.paddingMaskCrop() != null && !inpainting) {
            bad.add("paddingMaskCrop (padding_mask_crop belongs to inpainting: SdPipelines.inpaint)");
        }
        if (p.mask() != null && !inpainting) {
            bad.add("mask (SD inpainting is StableDiffusionControlNetPAGInpaintPipeline: SdPipelines.inpaint)");
        }
        if (p.denoisingStart() != null || p.denoisingEnd() != null) {
            bad.add("denoisingStart/denoisingEnd (SDXL ensemble of experts)");
        }
        if (p.aestheticScore() != 6.0f || p.negativeAestheticScore() != 2.5f) {
            bad.add("aestheticScore/negativeAestheticScore (SDXL refiner conditioning)");
        }
        if (p.ipAdapterImages() != null && !p.ipAdapterImages().isEmpty()
                || p.ipAdapterImageEmbeds() != null && !p.ipAdapterImageEmbeds().isEmpty()) {
            bad.add("IP-Adapter images/embeds (SDXL only)");
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("Stable Diffusion 1.x/2.x pipeline: parameters it does not have: "
                    + String.join(", ", bad));
        }
    }

    /** Refuses this pipeline's later calls; the last {@code fromPipe} sibling to close unmaps the weights. */
    @Override
    public void close() {
        share.close();
    }
}
