package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerConfig;
import dev.pagoda.diffusion.scheduler.SchedulerFactory;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the SDXL pipelines share (diffusers' {@code StableDiffusionXL*Pipeline} and their PAG
 * variants): prompt encoding, the batched conditioning, the denoising loop with CFG and PAG, and VAE
 * decoding. Subclasses decide where the loop starts: pure noise (text-to-image), a noised image
 * (image-to-image), or a noised image with a mask (inpainting).
 *
 * <p>PAG: when enabled, the self-attention layers selected by {@link #pagAppliedLayers()} are flagged
 * for the duration of each call with a positive PAG scale, and the batch gains the perturbed rows.
 * Pipelines made with {@code fromPipe} share module instances, so calls on them must not overlap.
 */
public abstract class SdxlPipeline implements AutoCloseable {

    /** Sees every denoiser call and its batched input and raw output (conformance checks, tooling). */
    public interface DenoiserObserver {
        void onDenoiserCall(int call, UNet2DConditionModel.Input input, Tensor output);
    }

    /** Hears the stages of a call ("encode prompt", "denoise", "decode") for progress display. */
    public interface StageListener {
        void stage(String name);
    }

    protected final SdxlComponents components;
    private final boolean pagEnabled;
    private List<String> pagAppliedLayers;
    private PagLayers.Mode pagMode = PagLayers.Mode.DIFFUSERS;
    private String schedulerClass;
    private DenoiserObserver observer;
    private StageListener stages = name -> { };

    protected SdxlPipeline(SdxlComponents components, boolean pagEnabled, List<String> pagAppliedLayers) {
        this.components = components;
        this.pagEnabled = pagEnabled;
        setPagAppliedLayers(pagAppliedLayers == null ? List.of("mid") : pagAppliedLayers);
    }

    public SdxlComponents components() {
        return components;
    }

    public boolean pagEnabled() {
        return pagEnabled;
    }

    public List<String> pagAppliedLayers() {
        return pagAppliedLayers;
    }

    /** Re-selects the PAG layers; a pattern that selects no self-attention module is an error now. */
    public void setPagAppliedLayers(List<String> layers) {
        setPagAppliedLayers(layers, pagMode);
    }

    public void setPagAppliedLayers(List<String> layers, PagLayers.Mode mode) {
        PagLayers.select(components.unet(), layers, mode);
        this.pagAppliedLayers = List.copyOf(layers);
        this.pagMode = mode;
    }

    /** Uses another scheduler class (e.g. "EulerAncestralDiscreteScheduler") with the model's config. */
    public void setScheduler(String className) {
        this.schedulerClass = className;
    }

    public void setObserver(DenoiserObserver observer) {
        this.observer = observer;
    }

    public void setStageListener(StageListener listener) {
        this.stages = listener == null ? name -> { } : listener;
    }

    protected Scheduler newScheduler() {
        return schedulerClass == null ? SchedulerFactory.fromConfigFile(components.schedulerConfig())
                : SchedulerFactory.create(schedulerClass, SchedulerConfig.read(components.schedulerConfig()));
    }

    /** Runs the pipeline. */
    public GenerationResult generate(GenerationParams p) {
        UNet2DConditionModel unet = components.unet();
        Guidance g = new Guidance(p.guidanceScale(), pagEnabled ? p.pagScale() : 0f, p.pagAdaptiveScale(),
                p.guidanceRescale(), pagEnabled && !pagAppliedLayers.isEmpty());
        int[] hw = resolveSize(p);
        int h = hw[0];
        int w = hw[1];
        int n = p.numImagesPerPrompt();
        stages.stage("encode prompt");
        SdxlPromptEncoder.Encoded enc = components.promptEncoder()
                .encode(p.prompt(), p.prompt2(), p.negativePrompt(), p.negativePrompt2(), g.cfg());

        Scheduler scheduler = newScheduler();
        Start start = prepare(p, scheduler, h, w, n);
        Backend device = components.backend();
        // The conditioning crosses to the denoiser's backend once per call; per step only the
        // latents go up and the noise prediction comes back (guidance and schedulers run on the host).
        Conditioning cond = conditioning(enc, g, p, h, w, n).on(device);
        Backend be = Backend.cpu();
        stages.stage("denoise");
        if (g.pag()) {
            PagLayers.apply(unet, pagAppliedLayers, pagMode);
        }
        try {
            Tensor latents = start.latents();
            float[] ts = start.timesteps();
            for (int i = 0; i < ts.length; i++) {
                float t = ts[i];
                Tensor[] copies = new Tensor[g.rows()];
                java.util.Arrays.fill(copies, latents);
                Tensor input = scheduler.scaleModelInput(g.rows() == 1 ? latents : be.concat(0, copies), t);
                input = extendInput(input, g.rows());
                UNet2DConditionModel.Input in = new UNet2DConditionModel.Input(device.resident(input),
                        new float[] {t}, cond.embeds(), cond.pooled(), cond.timeIds(), g.perturbedRows(n), null, null);
                Tensor out = device.toHost(unet.forward(in));
                if (observer != null) {
                    observer.onDenoiserCall(i, in, out);
                }
                Tensor eps = g.combine(out, t);
                latents = scheduler.step(eps, t, latents, p.noise()).prevSample();
                latents = afterStep(latents, scheduler, i, ts);
                if (p.callback() != null) {
                    p.callback().onStep(i, ts.length, t, latents);
                }
            }
            Tensor image = null;
            if (p.outputType() == GenerationParams.OutputType.IMAGE) {
                stages.stage("decode");
                image = device.toHost(components.vae().decode(device.resident(components.vae().unscale(latents))));
            }
            return new GenerationResult(latents, image);
        } finally {
            if (g.pag()) {
                PagLayers.clear(unet);
            }
        }
    }

    /** Where the loop starts: the initial latents and the timesteps to run. */
    protected record Start(Tensor latents, float[] timesteps) {
    }

    protected abstract Start prepare(GenerationParams p, Scheduler scheduler, int h, int w, int n);

    /** Extra UNet input channels (9-channel inpainting); the default adds none. */
    protected Tensor extendInput(Tensor scaledInput, int rows) {
        return scaledInput;
    }

    /** Post-step adjustment (4-channel inpainting re-imposes the known region); default none. */
    protected Tensor afterStep(Tensor latents, Scheduler scheduler, int step, float[] timesteps) {
        return latents;
    }

    /** Height and width from the params, the input image, or the UNet's sample size. */
    protected int[] resolveSize(GenerationParams p) {
        int dflt = components.unet().config().sampleSize() * components.vae().scale();
        int h = p.height() != null ? p.height() : p.image() != null ? p.image().dim(2) : dflt;
        int w = p.width() != null ? p.width() : p.image() != null ? p.image().dim(3) : dflt;
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

    private Conditioning conditioning(SdxlPromptEncoder.Encoded enc, Guidance g, GenerationParams p, int h, int w,
            int n) {
        Backend be = Backend.cpu();
        int[] orig = p.originalSize() != null ? p.originalSize() : new int[] {h, w};
        int[] target = p.targetSize() != null ? p.targetSize() : new int[] {h, w};
        int[] crops = p.cropsCoordsTopLeft();
        Tensor ids = Tensor.of(new float[] {orig[0], orig[1], crops[0], crops[1], target[0], target[1]}, 1, 6);
        List<Tensor> e = new ArrayList<>();
        List<Tensor> pooled = new ArrayList<>();
        List<Tensor> t = new ArrayList<>();
        if (g.cfg()) {
            addRepeated(e, enc.negative().embeds(), n);
            addRepeated(pooled, enc.negative().pooled(), n);
            addRepeated(t, ids, n);
        }
        int condRows = g.pag() ? 2 : 1;
        for (int r = 0; r < condRows; r++) {
            addRepeated(e, enc.positive().embeds(), n);
            addRepeated(pooled, enc.positive().pooled(), n);
            addRepeated(t, ids, n);
        }
        return new Conditioning(be.concat(0, e.toArray(Tensor[]::new)), be.concat(0, pooled.toArray(Tensor[]::new)),
                be.concat(0, t.toArray(Tensor[]::new)));
    }

    private static void addRepeated(List<Tensor> out, Tensor x, int n) {
        out.addAll(Collections.nCopies(n, x));
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

    @Override
    public void close() {
        components.close();
    }
}
