package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerChoice;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.pixart.PixArtTransformer2DModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * PixArt-Σ text-to-image (diffusers' {@code PixArtSigmaPipeline}), with PAG when enabled
 * ({@code PixArtSigmaPAGPipeline}, default layers {@code ["blocks.1"]}): T5 prompt encoding
 * ({@link PixArtPromptEncoder}), optional resolution binning, the denoising loop with the
 * scheduler of {@code scheduler_config.json} (DPM-Solver++ for the published models) on the
 * transformer's learned-sigma output (guidance on all channels, the first {@code in_channels}
 * kept), and VAE decoding (resized back to the requested size after binning).
 *
 * <p><b>Threading.</b> As {@link SdxlPipeline}: concurrent {@code generate} calls, also on
 * {@code fromPipe} siblings, each build their own scheduler, guidance plan and conditioning; the
 * shared modules are read only. T5 encodes are serialised (see {@link PixArtComponents}).
 */
public class PixArtSigmaPipeline implements DiffusionPipeline {

    /** Sees every transformer call with its batched input and raw output. */
    public interface DenoiserObserver {
        void onDenoiserCall(int call, PixArtTransformer2DModel.Input input, Tensor output);
    }

    private record PagSelection(List<String> layers, PagLayers.Mode mode, List<Attention> modules) {
    }

    private static final String OPT_OUT = "; the check can be turned off with GenerationParams.checkFinite(false)"
            + " (CLI: --no-finite-check)";

    protected final PixArtComponents components;
    private final Shares.Share share;
    private final boolean pagEnabled;
    private volatile PagSelection pag;
    private volatile SchedulerChoice schedulerChoice = SchedulerChoice.MODEL;
    private volatile DenoiserObserver observer;
    private volatile SdxlPipeline.StageListener stages = name -> { };

    /**
     * @param pagAppliedLayers PAG layer patterns (null: {@code ["blocks.1"]}, diffusers' default)
     */
    public PixArtSigmaPipeline(PixArtComponents components, boolean pagEnabled, List<String> pagAppliedLayers) {
        this.components = components;
        this.pagEnabled = pagEnabled;
        setPagAppliedLayers(pagAppliedLayers == null ? List.of("blocks.1") : pagAppliedLayers,
                PagLayers.Mode.DIFFUSERS);
        this.share = components.share();
    }

    public PixArtComponents components() {
        return components;
    }

    @Override
    public dev.pagoda.nn.vae.AutoencoderKL vae() {
        return components.vae();
    }

    @Override
    public int defaultImageSize() {
        return components.transformer().config().sampleSize() * components.vae().scale();
    }

    public boolean pagEnabled() {
        return pagEnabled;
    }

    @Override
    public List<String> pagAppliedLayers() {
        return pag.layers();
    }

    /** Re-selects the PAG layers; a pattern that selects no self-attention module is an error now. */
    public void setPagAppliedLayers(List<String> layers) {
        setPagAppliedLayers(layers, pag.mode());
    }

    @Override
    public void setPagAppliedLayers(List<String> layers, PagLayers.Mode mode) {
        this.pag = new PagSelection(List.copyOf(layers), mode, PagLayers.modules(components.transformer(), layers, mode));
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
    public void setStageListener(SdxlPipeline.StageListener listener) {
        this.stages = listener == null ? name -> { } : listener;
    }

    /**
     * Runs the pipeline (thread-safe).
     *
     * @throws IllegalArgumentException     for a size the model cannot take (see {@link #resolveSize})
     * @throws GenerationCancelledException when cancelled
     * @throws NonFiniteException           at the first NaN/inf prediction or latent (unless turned off)
     * @throws IllegalStateException        when the components are closed
     */
    @Override
    public GenerationResult generate(GenerationParams p) {
        share.checkOpen();
        components.acquire();
        try {
            return run(p);
        } finally {
            components.release();
        }
    }

    private GenerationResult run(GenerationParams p) {
        rejectSdxlOnly(p);
        PagSelection selection = pag;
        DenoiserObserver obs = observer;
        SdxlPipeline.StageListener stage = stages;
        Scheduler scheduler = schedulerChoice.build(components.schedulerConfig());
        PixArtTransformer2DModel tr = components.transformer();
        int[] size = resolveSize(p);
        int h = size[0];
        int w = size[1];
        int n = p.numImagesPerPrompt();
        Guidance g = new Guidance(p.guidanceScale(), pagEnabled ? p.pagScale() : 0f, p.pagAdaptiveScale(), 0f,
                pagEnabled && !selection.modules().isEmpty());
        GuidedBatch batch = GuidedBatch.of(g, n, selection.modules());
        stage.stage("encode prompt");
        PixArtPromptEncoder.Encoded enc = new PixArtPromptEncoder(components).encode(p.prompt(), p.negativePrompt(),
                g.cfg(), p.maxSequenceLength());
        boolean cfg = batch.has(GuidedBatch.Term.UNCOND);
        Backend device = components.backend();
        Tensor ehs = device.resident(batch.conditioning(cfg ? enc.negative().embeds() : null, enc.positive().embeds()));
        Tensor mask = batch.conditioning(cfg ? enc.negative().mask() : null, enc.positive().mask());

        scheduler.setTimesteps(p.numInferenceSteps());
        int lat = tr.config().inChannels();
        int s = components.vae().scale();
        Tensor latents = Backend.cpu().affine(p.noise().next(n, lat, h / s, w / s), scheduler.initNoiseSigma(), 0f);
        float[] ts = scheduler.timesteps();
        stage.stage("denoise");
        for (int i = 0; i < ts.length; i++) {
            stopIfCancelled(p, i, ts.length);
            float t = ts[i];
            Tensor input = scheduler.scaleModelInput(batch.repeat(latents), t);
            float[] rowT = new float[batch.rows()];
            java.util.Arrays.fill(rowT, t);
            PixArtTransformer2DModel.Input in = new PixArtTransformer2DModel.Input(device.resident(input), rowT, ehs,
                    mask, null, null, batch.pagPlan());
            Tensor out = device.toHost(tr.forward(in));
            if (obs != null) {
                obs.onDenoiserCall(i, in, out);
            }
            if (p.checkFinite() && !UNet2DConditionModel.allFinite(out)) {
                throw new NonFiniteException("non-finite noise prediction at step " + (i + 1) + "/" + ts.length
                        + " (timestep " + t + ")" + OPT_OUT, i, "transformer");
            }
            Tensor eps = batch.combine(out, t);
            if (tr.config().outChannels() / 2 == lat) {
                eps = eps.narrow(1, 0, lat).contiguous(); // learned sigma: keep the noise half
            }
            latents = scheduler.step(eps, t, latents, p.noise()).prevSample();
            if (p.callback() != null) {
                Step step = new Step(i, ts.length, t, latents);
                p.callback().onStep(step);
                latents = step.latents();
                if (step.cancelled()) {
                    throw new GenerationCancelledException(i + 1, ts.length);
                }
            }
            if (p.checkFinite() && !UNet2DConditionModel.allFinite(latents)) {
                throw new NonFiniteException("non-finite latents after step " + (i + 1) + "/" + ts.length
                        + " (timestep " + t + ")" + OPT_OUT, i, null);
            }
        }
        stopIfCancelled(p, ts.length, ts.length);
        Tensor image = null;
        if (p.outputType() == GenerationParams.OutputType.IMAGE) {
            stage.stage("decode");
            image = device.toHost(components.vae().decode(device.resident(components.vae().unscale(latents))));
            if (size[2] != h || size[3] != w) {
                image = AspectRatioBins.resizeAndCrop(image, size[2], size[3]);
            }
        }
        stopIfCancelled(p, ts.length, ts.length);
        return new GenerationResult(latents, image, GenerationResult.describe(p, getClass().getSimpleName(),
                scheduler.getClass().getSimpleName(), g.pag() ? PagLayers.describe(selection.layers(), selection.mode()) : null, size[2], size[3]));
    }

    /** PixArt-Σ's {@code __call__} has no second prompt, no rescale and no input image: refuse rather than ignore. */
    private static void rejectSdxlOnly(GenerationParams p) {
        List<String> bad = new java.util.ArrayList<>();
        if (p.prompt2() != null || p.negativePrompt2() != null) {
            bad.add("prompt2/negativePrompt2 (one T5 encoder)");
        }
        if (!p.sdxlOnlyOptions().isEmpty()) {
            bad.add(String.join(", ", p.sdxlOnlyOptions()) + " (SDXL pipelines only so far)");
        }
        if (p.guidanceRescale() != 0) {
            bad.add("guidanceRescale");
        }
        if (p.image() != null || p.mask() != null || p.strength() != null) {
            bad.add("image/mask/strength (text-to-image only)");
        }
        if (p.denoisingStart() != null || p.denoisingEnd() != null) {
            bad.add("denoisingStart/denoisingEnd (SDXL ensemble of experts)");
        }
        if (p.aestheticScore() != 6.0f || p.negativeAestheticScore() != 2.5f) {
            bad.add("aestheticScore/negativeAestheticScore (SDXL refiner conditioning)");
        }
        if (p.originalSize() != null || p.targetSize() != null || p.cropsCoordsTopLeft()[0] != 0
                || p.cropsCoordsTopLeft()[1] != 0) {
            bad.add("originalSize/targetSize/cropsCoordsTopLeft (SDXL micro-conditioning)");
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("PixArt-Sigma pipeline: parameters of the SDXL pipelines are not "
                    + "accepted: " + String.join(", ", bad));
        }
    }

    private static void stopIfCancelled(GenerationParams p, int done, int steps) {
        if (p.cancellation() != null && p.cancellation().isCancelled()) {
            throw new GenerationCancelledException(done, steps);
        }
    }

    /**
     * {@code [height, width, requested height, requested width]}: the size generated at (the
     * nearest aspect-ratio bin with binning on) and the size asked for (default: the transformer's
     * {@code sample_size} × the VAE scale). The generated size must be a multiple of the VAE scale ×
     * the patch size.
     */
    int[] resolveSize(GenerationParams p) {
        var cfg = components.transformer().config();
        int dflt = cfg.sampleSize() * components.vae().scale();
        int h = p.height() != null ? p.height() : dflt;
        int w = p.width() != null ? p.width() : dflt;
        int oh = h;
        int ow = w;
        if (p.useResolutionBinning()) {
            int[] bin = AspectRatioBins.classify(h, w, AspectRatioBins.binResolution(cfg.sampleSize()));
            h = bin[0];
            w = bin[1];
        }
        int factor = components.vae().scale() * cfg.patchSize();
        if (h % factor != 0 || w % factor != 0) {
            throw new IllegalArgumentException("height and width must be multiples of " + factor + " (VAE scale "
                    + components.vae().scale() + " x patch size " + cfg.patchSize() + ") for this model, got " + h + "x"
                    + w + (p.useResolutionBinning() ? "" : " (resolution binning is off)"));
        }
        return new int[] {h, w, oh, ow};
    }

    /**
     * Refuses this pipeline's later calls; the last of the {@code fromPipe} siblings to close closes
     * the shared components once no call is running.
     */
    @Override
    public void close() {
        share.close();
    }
}
