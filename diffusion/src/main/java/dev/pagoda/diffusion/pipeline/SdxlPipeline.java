package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.controlnet.ControlNetConditioning;
import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.ipadapter.IpAdapterConditioning;
import dev.pagoda.diffusion.ipadapter.IpAdapters;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerChoice;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.util.Collections;
import java.util.List;

/**
 * What the SDXL pipelines share (diffusers' {@code StableDiffusionXL*Pipeline} and their PAG
 * variants): prompt encoding, the batched conditioning, the denoising loop with CFG and PAG, and VAE
 * decoding. Subclasses decide where the loop starts: pure noise (text-to-image), a noised image
 * (image-to-image), or a noised image with a mask (inpainting).
 *
 * <p>PAG: when enabled and the call's PAG scale is positive, the call builds a {@link GuidedBatch}
 * from the layers selected by {@link #pagAppliedLayers()}; the UNet receives its
 * {@link dev.pagoda.nn.attention.PagPlan} and no module is flagged or changed.
 *
 * <p><b>Threading.</b> {@link #generate} may be called from several threads at once, on one pipeline
 * and on its {@code fromPipe} siblings (which share the loaded modules), each call with its own PAG
 * layers, scales and scheduler state: everything a call needs is built per call (scheduler, guidance
 * plan, conditioning, start latents) and the shared modules are read only, so every result is
 * bit-equal to the same call made alone. The settings ({@link #setPagAppliedLayers},
 * {@link #setScheduler}, {@link #setObserver}, {@link #setStageListener}) may be changed at any time;
 * a call reads each once when it starts and keeps it to the end. Observers and listeners are called
 * on the thread running the call, so one set on a pipeline used from several threads must be
 * thread-safe. A {@link GenerationParams} carries a {@code NoiseSource} with state: give each
 * concurrent call its own ({@link GenerationParams.Builder#seed} makes a new one per build).
 * {@link AutoencoderKL#setTiling} is a setting of the shared VAE and applies to every sibling.
 */
public abstract class SdxlPipeline implements DiffusionPipeline {

    /** Sees every denoiser call and its batched input and raw output (conformance checks, tooling). */
    public interface DenoiserObserver {
        void onDenoiserCall(int call, UNet2DConditionModel.Input input, Tensor output);
    }

    /** Hears the stages of a call ("encode prompt", "denoise", "decode") for progress display. */
    public interface StageListener {
        void stage(String name);
    }

    /** The PAG layer setting and the modules it selects, swapped as a whole. */
    private record PagSelection(List<String> layers, PagLayers.Mode mode, List<Attention> modules) {
    }

    protected final SdxlComponents components;
    private final Shares.Share share;
    private final MultiControlNetModel controlnet;
    private final boolean pagEnabled;
    private volatile PagSelection pag;
    private volatile SchedulerChoice schedulerChoice = SchedulerChoice.MODEL;
    private volatile DenoiserObserver observer;
    private volatile StageListener stages = name -> { };

    protected SdxlPipeline(SdxlComponents components, boolean pagEnabled, List<String> pagAppliedLayers) {
        this(components, null, pagEnabled, pagAppliedLayers);
    }

    /**
     * With ControlNets ({@code StableDiffusionXLControlNet*Pipeline}); {@code controlnet} null for none.
     *
     * @throws IllegalArgumentException when a net's cross-attention width, addition embedding or
     *                                  blocks do not match the UNet
     */
    protected SdxlPipeline(SdxlComponents components, MultiControlNetModel controlnet, boolean pagEnabled,
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

    public SdxlComponents components() {
        return components;
    }

    @Override
    public AutoencoderKL vae() {
        return components.vae();
    }

    @Override
    public int defaultImageSize() {
        return components.unet().config().sampleSize() * components.vae().scale();
    }

    /** The pipeline's ControlNets, or null for a pipeline without. */
    public MultiControlNetModel controlnet() {
        return controlnet;
    }

    public boolean pagEnabled() {
        return pagEnabled;
    }

    @Override
    public List<String> pagAppliedLayers() {
        return pag.layers();
    }

    /**
     * diffusers' {@code load_lora_weights}: attaches the LoRA file (kohya/A1111 or diffusers/PEFT layout,
     * UNet and both text encoders) as adapter {@code adapterName}, active with weight 1.
     *
     * @throws dev.pagoda.diffusion.singlefile.CheckpointException listing target modules that do not
     *         exist, rank mismatches and pairs that do not fit their layer; nothing is attached then
     */
    public void loadLoraWeights(java.nio.file.Path file, String adapterName) {
        components.lora().load(file, adapterName);
    }

    /** diffusers' {@code set_adapters}: the named adapters are active with these weights, the others off. */
    public void setAdapters(List<String> adapterNames, List<Float> weights) {
        components.lora().setAdapters(adapterNames, weights);
    }

    /** diffusers' {@code fuse_lora}: writes the active adapters into the weights (a new tensor in the stored dtype). */
    public void fuseLora() {
        components.lora().fuse();
    }

    /** diffusers' {@code unfuse_lora}: restores the original weights exactly. */
    public void unfuseLora() {
        components.lora().unfuse();
    }

    /** Re-selects the PAG layers; a pattern that selects no self-attention module is an error now. */
    public void setPagAppliedLayers(List<String> layers) {
        setPagAppliedLayers(layers, pag.mode());
    }

    @Override
    public void setPagAppliedLayers(List<String> layers, PagLayers.Mode mode) {
        List<Attention> modules = PagLayers.modules(components.unet(), layers, mode);
        this.pag = new PagSelection(List.copyOf(layers), mode, modules);
    }

    /**
     * diffusers' {@code load_ip_adapter(..., image_encoder_folder=...)} on this pipeline's components
     * (shared with its {@code fromPipe} siblings, as diffusers shares the UNet's processors).
     */
    public void loadIpAdapter(List<java.nio.file.Path> weightFiles, java.nio.file.Path imageEncoderDir) {
        components.loadIpAdapter(weightFiles, imageEncoderDir);
    }

    /** {@code set_ip_adapter_scale(scale)}: one scale for every adapter and layer. */
    public void setIpAdapterScale(float scale) {
        components.setIpAdapterScale(List.of(scale));
    }

    /**
     * {@code set_ip_adapter_scale([...])}: per adapter a {@code Number} or a per-block {@code Map}
     * ({@code {"up": {"block_0": [0.0, 1.0, 0.0]}}}), or one config for all.
     */
    public void setIpAdapterScale(List<?> perAdapter) {
        components.setIpAdapterScale(perAdapter);
    }

    public void unloadIpAdapter() {
        components.unloadIpAdapter();
    }

    /** A scheduler class (null = the model's) with overrides of the model's scheduler config. */
    @Override
    public void setScheduler(SchedulerChoice choice) {
        this.schedulerChoice = choice == null ? SchedulerChoice.MODEL : choice;
    }

    public void setObserver(DenoiserObserver observer) {
        this.observer = observer;
    }

    @Override
    public void setStageListener(StageListener listener) {
        this.stages = listener == null ? name -> { } : listener;
    }

    protected Scheduler newScheduler(SchedulerChoice choice) {
        return choice.build(components.schedulerConfig());
    }

    /**
     * Runs the pipeline (thread-safe: see the class comment).
     *
     * @throws GenerationCancelledException when the params' {@link Cancellation} or step callback
     *                                      stopped the run
     * @throws NonFiniteException           at the first NaN/inf prediction or latent (unless
     *                                      {@code checkFinite} is off)
     * @throws IllegalStateException        when the pipeline's components are closed
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
        // one read of every setting: a concurrent setter affects later calls only
        PagSelection selection = pag;
        IpAdapters ipAdapters = components.ipAdapters();
        DenoiserObserver obs = observer;
        StageListener stage = stages;
        Scheduler scheduler = newScheduler(schedulerChoice);

        UNet2DConditionModel unet = components.unet();
        Guidance g = new Guidance(p.guidanceScale(), pagEnabled ? p.pagScale() : 0f, p.pagAdaptiveScale(),
                p.guidanceRescale(), pagEnabled && !selection.modules().isEmpty());
        int[] hw = resolveSize(p);
        int h = hw[0];
        int w = hw[1];
        if (!acceptsLatents() && p.latents() != null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": latents are supported by the"
                    + " text-to-image and SDXL image-to-image pipelines");
        }
        if (p.maskedImageLatents() != null && !(this instanceof StableDiffusionXLInpaintPipeline)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": maskedImageLatents"
                    + " (masked_image_latents) belong to the inpainting pipeline");
        }
        if (p.paddingMaskCrop() != null && !(this instanceof StableDiffusionXLInpaintPipeline)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": paddingMaskCrop (padding_mask_crop)"
                    + " belongs to the inpainting pipeline");
        }
        // diffusers' batch_size * num_images_per_prompt rows per guidance term, prompt-major
        int n = p.batchSize() * p.numImagesPerPrompt();
        GuidedBatch batch = GuidedBatch.of(g, n, selection.modules());
        Backend device = components.backend();
        ControlNetConditioning control = controlConditioning(p, batch, h, w, device);
        stage.stage("encode prompt");
        SdxlPromptEncoder.Encoded enc = encodePrompt(p, g.cfg());
        components.afterPromptEncoding();

        IpAdapterPlan ip = IpAdapterConditioning.prepare(ipAdapters, p.ipAdapterImages(), p.ipAdapterImageEmbeds(),
                batch, n, device);
        if (scheduler instanceof dev.pagoda.diffusion.scheduler.EtaScheduler eta) {
            eta.setEta(p.eta());
        }
        if (p.denoisingStart() != null && !acceptsDenoisingStart()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " does not take denoising_start (in Pagoda"
                    + " only the SDXL img2img pipelines do; the refiner runs as AutoPipelineForImage2Image)");
        }
        if (p.denoisingEnd() != null && !acceptsDenoisingEnd()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no denoising_end (as in diffusers)");
        }
        Start start = prepare(p, scheduler, h, w, n);
        // diffusers computes ControlNet's guidance windows (controlnet_keep) over the schedule before
        // denoising_end cuts it, so the windows stay fractions of the whole schedule
        int scheduled = start.timesteps().length;
        if (p.denoisingEnd() != null) {
            start.truncate(scheduler.truncateForDenoisingEnd(start.timesteps(), p.denoisingEnd()));
        }
        // The conditioning crosses to the denoiser's backend once per call; per step only the
        // latents go up and the noise prediction comes back (guidance and schedulers run on the host).
        Conditioning cond = conditioning(enc, batch, p, h, w).on(device);
        stage.stage("denoise");
        Tensor latents = DenoiseLoop.run(p, scheduler, batch, start, unet, device, obs, (i, steps, x, t) -> {
            UNet2DConditionModel.Input in = new UNet2DConditionModel.Input(x, new float[] {t}, cond.embeds(),
                    cond.pooled(), cond.timeIds(), batch.pagPlan(), null, null, ip);
            return control != null ? control.apply(in, i, scheduled) : in;
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
                scheduler.getClass().getSimpleName(), g.pag() ? PagLayers.describe(selection.layers(), selection.mode()) : null, h, w));
    }

    /**
     * Where one call's loop starts (the initial latents and the timesteps to run) and the call's
     * own hooks into it; a subclass keeps per-call tensors (inpainting's mask latents) here, never on
     * the pipeline.
     */
    protected static class Start {
        private final Tensor latents;
        private float[] timesteps;

        protected Start(Tensor latents, float[] timesteps) {
            this.latents = latents;
            this.timesteps = timesteps;
        }

        public Tensor latents() {
            return latents;
        }

        public float[] timesteps() {
            return timesteps;
        }

        /** {@code denoising_end}: the loop (and any post-step hook) sees only these leading timesteps. */
        void truncate(float[] leading) {
            this.timesteps = leading;
        }

        /** Extra UNet input channels (9-channel inpainting) in the batch layout; the default adds none. */
        protected Tensor extendInput(Tensor scaledInput, GuidedBatch batch) {
            return scaledInput;
        }

        /**
         * The decoded images {@code [B, 3, H, W]} as the call returns them (inpainting's padding_mask_crop pastes
         * them over the original); default unchanged.
         */
        protected Tensor finishImage(Tensor decoded) {
            return decoded;
        }

        /** Post-step adjustment (4-channel inpainting re-imposes the known region); default none. */
        protected Tensor afterStep(Tensor latents, Scheduler scheduler, int step, float[] timesteps) {
            return latents;
        }
    }

    protected abstract Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n);

    /** Whether the call may give {@code denoising_start} (diffusers: the img2img and inpaint pipelines). */
    protected boolean acceptsDenoisingStart() {
        return false;
    }

    /** Whether the call may give {@code denoising_end} (every SDXL pipeline here but ControlNet img2img). */
    protected boolean acceptsDenoisingEnd() {
        return true;
    }

    /**
     * Whether the time ids end with the aesthetic score ({@code requires_aesthetics_score}, which only
     * diffusers' img2img and inpaint pipelines read) instead of the target size.
     */
    protected boolean aestheticTimeIds() {
        return false;
    }

    /**
     * The call's ControlNet conditioning, or null for a pipeline without ControlNets.
     *
     * @throws IllegalArgumentException when the call's ControlNet arguments do not fit the nets
     */
    private ControlNetConditioning controlConditioning(GenerationParams p, GuidedBatch batch, int h, int w,
            Backend device) {
        return ControlNetParams.prepare(controlnet, p.controlNet(), batch, h, w, device,
                "AutoPipelineForText2Image with PipelineOptions.controlnet");
    }

    /**
     * Height and width from the params, else the control image's (with ControlNets, rounded down to
     * a multiple of the VAE scale, as diffusers), the input image's, or the UNet's sample size.
     */
    protected int[] resolveSize(GenerationParams p) {
        int dflt = components.unet().config().sampleSize() * components.vae().scale();
        int s = components.vae().scale();
        BufferedImage control = controlnet != null && p.controlNet() != null ? p.controlNet().images().get(0) : null;
        // an img2img image given as latents has the latent size
        int fromImage = p.image() != null
                && StableDiffusionXLImg2ImgPipeline.isLatents(p.image(), components.vae().config().latentChannels()) ? s : 1;
        int h = p.height() != null ? p.height() : control != null ? control.getHeight() / s * s
                : p.image() != null ? p.image().dim(2) * fromImage : dflt;
        int w = p.width() != null ? p.width() : control != null ? control.getWidth() / s * s
                : p.image() != null ? p.image().dim(3) * fromImage : dflt;
        int factor = components.vae().scale() << components.unet().downsamplings();
        if (h % factor != 0 || w % factor != 0) {
            throw new IllegalArgumentException("height and width must be multiples of " + factor + " for this model, got "
                    + h + "x" + w);
        }
        return new int[] {h, w};
    }

    /** The batched conditioning in the guidance layout. */
    protected record Conditioning(Tensor embeds, Tensor pooled, Tensor timeIds) {
        Conditioning on(Backend be) {
            return new Conditioning(be.resident(embeds), be.resident(pooled), be.resident(timeIds));
        }
    }

    private Conditioning conditioning(SdxlPromptEncoder.Encoded enc, GuidedBatch batch, GenerationParams p, int h,
            int w) {
        int[] hw = {h, w};
        int[] orig = or(p.originalSize(), hw);
        int[] target = or(p.targetSize(), hw);
        int[] crops = p.cropsCoordsTopLeft();
        int[] negCrops = or(p.negativeCropsCoordsTopLeft(), new int[] {0, 0}); // diffusers' default (0, 0)
        boolean aesthetic = aestheticTimeIds();
        Tensor ids;
        Tensor negIds;
        if (textToImage()) {
            // the text-to-image pipelines: negative ids only when both negative sizes are given
            ids = ids(orig[0], orig[1], crops[0], crops[1], target[0], target[1]);
            negIds = p.negativeOriginalSize() != null && p.negativeTargetSize() != null
                    ? ids(p.negativeOriginalSize()[0], p.negativeOriginalSize()[1], negCrops[0], negCrops[1],
                            p.negativeTargetSize()[0], p.negativeTargetSize()[1])
                    : ids;
        } else {
            // img2img / inpaint: each negative size defaults to the positive one; without aesthetic scores the
            // negative row keeps the positive crop (diffusers' _get_add_time_ids)
            int[] negOrig = or(p.negativeOriginalSize(), orig);
            int[] negTarget = or(p.negativeTargetSize(), target);
            ids = aesthetic ? ids(orig[0], orig[1], crops[0], crops[1], p.aestheticScore())
                    : ids(orig[0], orig[1], crops[0], crops[1], target[0], target[1]);
            negIds = aesthetic ? ids(negOrig[0], negOrig[1], negCrops[0], negCrops[1], p.negativeAestheticScore())
                    : ids(negOrig[0], negOrig[1], crops[0], crops[1], negTarget[0], negTarget[1]);
        }
        checkTimeIds(ids.dim(1), enc.positive().pooled().dim(1));
        boolean cfg = batch.has(GuidedBatch.Term.UNCOND);
        int n = p.numImagesPerPrompt();
        Tensor negEmbeds = cfg ? DenoiseLoop.perImage(enc.negative().embeds(), n) : null;
        Tensor negPooled = cfg ? DenoiseLoop.perImage(enc.negative().pooled(), n) : null;
        return new Conditioning(
                batch.conditioning(negEmbeds, DenoiseLoop.perImage(enc.positive().embeds(), n)),
                batch.conditioning(negPooled, DenoiseLoop.perImage(enc.positive().pooled(), n)),
                cfg ? batch.conditioning(negIds, ids) : batch.repeat(ids));
    }

    private static Tensor ids(float... v) {
        return Tensor.of(v, 1, v.length);
    }

    private static int[] or(int[] x, int[] y) {
        return x != null ? x : y;
    }

    /**
     * The call's prompt conditioning, {@code [batchSize, ...]}: the given {@code prompt_embeds} (and
     * negatives) or the encoded prompts; a missing negative side is encoded from the negative prompts,
     * or zeros where the model forces them, as diffusers' {@code encode_prompt}.
     */
    private SdxlPromptEncoder.Encoded encodePrompt(GenerationParams p, boolean cfg) {
        SdxlPromptEncoder encoder = components.promptEncoder();
        // diffusers' check_inputs: SDXL's embeddings come with their pooled halves
        if (p.promptEmbeds() != null && p.pooledPromptEmbeds() == null) {
            throw new IllegalArgumentException("promptEmbeds (prompt_embeds) also need pooledPromptEmbeds"
                    + " (pooled_prompt_embeds)");
        }
        if (p.negativePromptEmbeds() != null && p.negativePooledPromptEmbeds() == null) {
            throw new IllegalArgumentException("negativePromptEmbeds (negative_prompt_embeds) also need"
                    + " negativePooledPromptEmbeds (negative_pooled_prompt_embeds)");
        }
        if (p.promptEmbeds() == null) {
            if (p.negativePromptEmbeds() == null) {
                return encoder.encode(p.promptBatch(), p.prompt2Batch(), p.negativePromptBatch(),
                        p.negativePrompt2Batch(), p.noNegativePrompt(), cfg, p.clipSkip());
            }
            SdxlPromptEncoder.Encoded pos = encoder.encode(p.promptBatch(), p.prompt2Batch(), null, null, true,
                    false, p.clipSkip());
            return new SdxlPromptEncoder.Encoded(pos.positive(), cfg ? given(p.negativePromptEmbeds(),
                    p.negativePooledPromptEmbeds()) : null);
        }
        if (p.clipSkip() != null) {
            throw new IllegalArgumentException("clipSkip (clip_skip) applies to encoded prompts, not to the given"
                    + " promptEmbeds");
        }
        SdxlPromptEncoder.Embeddings pos = given(p.promptEmbeds(), p.pooledPromptEmbeds());
        if (!cfg) {
            return new SdxlPromptEncoder.Encoded(pos, null);
        }
        if (p.negativePromptEmbeds() != null) {
            return new SdxlPromptEncoder.Encoded(pos, given(p.negativePromptEmbeds(), p.negativePooledPromptEmbeds()));
        }
        if (p.noNegativePrompt() && encoder.forceZerosForEmptyPrompt()) {
            return new SdxlPromptEncoder.Encoded(pos, SdxlPromptEncoder.zerosLike(pos));
        }
        List<String> negatives = p.negativePromptBatch().stream().map(x -> x == null ? "" : x).toList();
        SdxlPromptEncoder.Embeddings neg = encoder.encode(negatives, p.negativePrompt2Batch(), null, null, true, false,
                null).positive();
        if (!java.util.Arrays.equals(neg.embeds().shape(), pos.embeds().shape())
                || !java.util.Arrays.equals(neg.pooled().shape(), pos.pooled().shape())) {
            throw new IllegalArgumentException("promptEmbeds " + Shapes.str(pos.embeds().shape()) + " / pooled "
                    + Shapes.str(pos.pooled().shape()) + " do not fit this model's encoded negative prompt "
                    + Shapes.str(neg.embeds().shape()) + " / " + Shapes.str(neg.pooled().shape()));
        }
        return new SdxlPromptEncoder.Encoded(pos, neg);
    }

    private SdxlPromptEncoder.Embeddings given(Tensor embeds, Tensor pooled) {
        dev.pagoda.nn.unet.UNetConfig c = components.unet().config();
        if (embeds.dim(2) != c.crossAttentionDim()) {
            throw new IllegalArgumentException("promptEmbeds have " + embeds.dim(2) + " channels but the UNet's"
                    + " cross_attention_dim is " + c.crossAttentionDim());
        }
        return new SdxlPromptEncoder.Embeddings(embeds.contiguous(), pooled.contiguous());
    }

    /** Whether this pipeline starts from noise (and follows the text-to-image rule for negative time ids). */
    protected boolean textToImage() {
        return false;
    }

    /** Whether this pipeline takes {@code latents} (text-to-image, and img2img as diffusers' SDXL img2img). */
    protected boolean acceptsLatents() {
        return textToImage();
    }

    /**
     * diffusers' {@code _get_add_time_ids} check: the UNet's added-embedding input must be the time
     * ids' embeddings plus the pooled text embedding, with the same hints when one time id is missing
     * or extra.
     */
    private void checkTimeIds(int count, int pooled) {
        var cfg = components.unet().config();
        int expected = cfg.projectionClassEmbeddingsInputDim();
        int passed = cfg.additionTimeEmbedDim() * count + pooled;
        if (expected == passed) {
            return;
        }
        // one time id too few: a base UNet under aesthetic ids; one too many: a refiner UNet under target-size ids
        String hint = expected - passed == cfg.additionTimeEmbedDim()
                ? "; the UNet expects 6 time ids ending with the target size (a base UNet):"
                        + " requires_aesthetics_score (model_index.json) must be false"
                : passed - expected == cfg.additionTimeEmbedDim()
                        ? "; the UNet expects 5 time ids ending with the aesthetic score (a refiner UNet): use an"
                                + " img2img or inpaint pipeline with requires_aesthetics_score true"
                        : "";
        throw new IllegalArgumentException("the UNet's projection_class_embeddings_input_dim is " + expected
                + " but " + count + " time ids x addition_time_embed_dim " + cfg.additionTimeEmbedDim()
                + " + pooled text embedding " + pooled + " = " + passed + hint);
    }

    /**
     * VAE-encodes {@code image} on the components' backend and samples the latent distribution
     * with {@code noise}; the (small) latents come back to the host.
     */
    protected Tensor encodeLatents(Tensor image, Tensor noise) {
        Backend device = components.backend();
        return device.toHost(components.vae().encode(device.resident(image)).sample(device.resident(noise)));
    }

    /** Checks an input image against the requested size. */
    protected static void requireImage(String what, Tensor img, int channels, int h, int w) {
        if (img == null) {
            throw new IllegalArgumentException(what + " is required");
        }
        if (img.rank() != 4 || img.dim(0) != 1 || img.dim(1) != channels || img.dim(2) != h || img.dim(3) != w) {
            throw new IllegalArgumentException(what + " must be [1, " + channels + ", " + h + ", " + w + "], got "
                    + Shapes.str(img.shape()));
        }
    }

    /** Repeats a {@code [1, ...]} tensor {@code n} times along the batch axis. */
    protected static Tensor repeat(Tensor x, int n) {
        if (n == 1) {
            return x;
        }
        return Backend.cpu().concat(0, Collections.nCopies(n, x).toArray(Tensor[]::new));
    }

    /**
     * Refuses this pipeline's later calls; when no {@code fromPipe} sibling holds the components any
     * more, closes them too: waits for running calls to end, then unmaps the weights. Idempotent.
     */
    @Override
    public void close() {
        share.close();
    }
}
