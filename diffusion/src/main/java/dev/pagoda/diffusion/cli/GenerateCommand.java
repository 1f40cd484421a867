package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForImage2Image;
import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.Cancellation;
import dev.pagoda.diffusion.pipeline.GenerationCancelledException;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.GenerationResult;
import dev.pagoda.diffusion.pipeline.MemoryGuard;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.tensor.Backend;
import dev.pagoda.diffusion.pipeline.DiffusionPipeline;
import dev.pagoda.diffusion.pipeline.SdPipelines;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGPipeline;
import dev.pagoda.diffusion.scheduler.SchedulerChoice;
import dev.pagoda.diffusion.pipeline.PixArtComponents;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code pagoda generate}: text-to-image, or image-to-image / inpainting when images are given. */
final class GenerateCommand {

    static final String HELP = """
            Usage: pagoda generate --model DIR|ORG/NAME|FILE.safetensors --prompt TEXT [options]

            Generates an image with an SDXL or PixArt-Sigma pipeline folder (diffusers layout, recognised
            from model_index.json) and Perturbed-Attention Guidance. Text-to-image by default; with SDXL,
            image-to-image with --init-image and inpainting with --init-image and --mask; ControlNet
            (text-to-image, or image-to-image with --init-image) with --controlnet and --control-image.
            SD 1.x/2.x folders: text-to-image (also with --controlnet), image-to-image, and inpainting
            with --controlnet, --control-image, --init-image and --mask.

              --model DIR|ORG/NAME     pipeline folder, or a Hugging Face repo id found in the local
                                       cache ($HF_HOME/hub or ~/.cache/huggingface/hub), or one
                                       original-layout checkpoint file (sd_xl_base_1.0.safetensors,
                                       A1111/ComfyUI models): SDXL base or inpainting
              --config DIR|ORG/NAME    with a checkpoint file: the diffusers folder whose configs and
                                       tokenizers to use (its weights are ignored); default: the
                                       SDXL base configs shipped with Pagoda
              --vae DIR|ORG/NAME       with a pipeline folder: the VAE from this folder instead
                                       (config.json + weights, e.g. madebyollin/sdxl-vae-fp16-fix)
              --lora FILE[:W]          apply a LoRA file (kohya/A1111 or diffusers/PEFT layout) with
                                       weight W (default 1); repeat the flag for several adapters
              --ip-adapter FILE[:S]    SDXL: an IP-Adapter weight file (original image_proj/ip_adapter or
                                       diffusers layout; plain or plus) at scale S (default --ip-scale);
                                       repeat the flag for several adapters
              --ip-adapter-image PATH  the reference image of each --ip-adapter, in the same order
                                       (alias --ip-image); as many images as adapters
              --ip-scale S             scale of adapters given without one (default 1)
              --image-encoder DIR      CLIP vision encoder folder (config.json + safetensors); default:
                                       image_encoder/ next to the adapter file, or ../models/image_encoder
                                       as the h94/IP-Adapter repository lays it out
              --prompt TEXT            what to draw (required)
              --prompt-2 TEXT          prompt for the second text encoder (default: --prompt)
              --negative-prompt TEXT   what to steer away from (default: none)
              --negative-prompt-2 TEXT negative prompt for the second encoder
              --steps N                denoising steps (default 25; PixArt 20)
              --cfg W                  classifier-free guidance scale; CFG is on when W > 1
                                       (default 5; SD 1.x/2.x 7.5; PixArt 4.5)
              --pag-scale S            PAG scale; 0 turns PAG off (default 3)
              --pag-layers LIST        comma-separated PAG layer patterns, diffusers semantics
                                       (default mid; PixArt blocks.1); e.g. mid,down_blocks.2 or
                                       down_blocks.{1,2} (commas inside braces belong to the regex) or
                                       up.block_1.attentions_0; PixArt: blocks.14 or transformer_blocks.3
              --pag-strict             patterns are literal block paths, not regular expressions
              --pag-adaptive-scale A   PAG scale decays as max(0, S - A*(1000 - t)) (default 0)
              --guidance-rescale R     rescale the CFG prediction (default 0)
              --seed N                 seed of the torch-compatible CPU generator (default 0)
              --clip-skip N            SDXL: condition on the text encoders' layer N+2 from the end
                                       (diffusers' clip_skip; default: the penultimate layer)
              --eta E                  DDIM's eta / TCD's gamma, the share of fresh noise per step (default 0,
                                       as the diffusers pipelines pass it)
              --timesteps LIST         custom descending timesteps, comma-separated (e.g. 999,749,499,249;
                                       Euler, DPM++, DDPM, LCM, TCD); the step count is their number
                                       (with --init-image, --strength then keeps the tail of them)
              --sigmas LIST            custom noise levels, the final one last (e.g. 14.6,6,2,0.5,0; Euler);
                                       the step count is their number minus one
              --width W --height H     image size, multiples of 8 (default: the model's, or the input's)
              --init-image PATH|URL    input image for image-to-image / inpainting
              --strength F             share of the schedule to run, in (0, 1]
                                       (default 0.3 image-to-image, 0.9999 inpainting;
                                       SD: 0.8 image-to-image, 1.0 ControlNet inpainting)
              --mask PATH|URL          inpainting mask, white = repaint (same size as the image)
              --padding-mask-crop N    inpaint only the box around the mask, N pixels wider, at the full
                                       size, and paste it back over the image (diffusers' padding_mask_crop)
%s%s              --scheduler NAME         euler, euler-a, ddim, dpm++, dpm++-single, dpm++-sde, deis,
                                       unipc, heun, lms, dpm2, dpm2-a, pndm, ddpm, lcm or tcd
                                       (default: the model's own scheduler_config.json, as diffusers)
              --karras                 Karras sigmas (scheduler config use_karras_sigmas=true)
              --scheduler-config K=V   scheduler config overrides, comma-separated (e.g.
                                       timestep_spacing=trailing,solver_order=3)
              --max-sequence-length N  PixArt: T5 tokens per prompt (default 300)
              --no-resolution-binning  PixArt: generate at exactly --width x --height instead of the
                                       nearest aspect-ratio bin resized back
              --tiled-vae              decode (and encode) the VAE in tiles to save memory (diffusers'
                                       enable_tiling: tiles of the VAE's sample_size, 1024 px for SDXL)
              --vae-tile PX            tiled VAE with PX-pixel tiles (a multiple of 8; 512 keeps a 1024²
                                       SDXL decode under 3 GiB), diffusers' vae.tile_sample_min_size
              --variant fp16           load *.fp16.safetensors where they exist (default: the plain
                                       *.safetensors files, as diffusers' variant=None)
              --backend B              where the UNet and VAE run: cpu (default), opencl (the preferred
                                       OpenCL device: GPU, then accelerator, then CPU) or
                                       opencl:P:D (platform P, device D as `pagoda devices` lists them);
                                       weights are moved to the device once, in their stored dtype
              --no-finite-check        do not stop at a NaN/inf noise prediction or latent
              --no-memory-check        load even when the estimated peak memory exceeds heap or RAM
              --out FILE               output PNG (default out.png); parameters go in tEXt chunks
            Ctrl-C stops the run at the next step and writes nothing.
            Exit codes: 0 ok, 2 usage error, 1 runtime failure, 130 cancelled (Ctrl-C / SIGINT).
            """.formatted(ControlNetArgs.HELP, RefinerArgs.HELP);

    private static final Set<String> VALUED = Set.of("variant", "vae", "model", "config", "lora", "prompt", "prompt-2", "negative-prompt",
            "negative-prompt-2", "steps", "cfg", "pag-scale", "pag-layers", "pag-adaptive-scale", "guidance-rescale",
            "seed", "clip-skip", "eta", "timesteps", "sigmas", "width", "height", "init-image", "strength", "mask", "padding-mask-crop", "vae-tile", "scheduler", "scheduler-config", "out", "backend",
            "max-sequence-length", "controlnet", "control-image", "control-scale", "control-start", "control-end",
            "ip-adapter", "ip-adapter-image", "ip-image", "ip-scale", "image-encoder", "refiner", "high-noise-frac");
    private static final Set<String> SWITCHES = Set.of("guess-mode", "pag-strict", "karras", "tiled-vae", "no-finite-check",
            "no-memory-check", "no-resolution-binning", "help");
    private static final Map<String, String> SCHEDULERS = SchedulerChoice.SHORT_NAMES;

    private GenerateCommand() {
    }

    /** {@code --scheduler}, {@code --scheduler-config k=v,...} and {@code --karras} as one choice. */
    static SchedulerChoice schedulerChoice(String className, String overrides, boolean karras) {
        try {
            Map<String, Object> o = SchedulerChoice.parseOverrides(overrides);
            if (karras) {
                o.put("use_karras_sigmas", true);
            }
            return new SchedulerChoice(className, o);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--scheduler-config: " + e.getMessage());
        }
    }

    /**
     * The ControlNet pipeline over {@code base}'s modules with the flags' nets (image-to-image when an
     * init image is given); {@code base} is closed if a net fails to load.
     */
    private static SdxlPipeline withControlNet(SdxlPipeline base, ControlNetArgs control, boolean fp16,
            boolean img2img) {
        try {
            var nets = new dev.pagoda.nn.controlnet.MultiControlNetModel(control.loadNets(fp16));
            SdxlPipeline t2i;
            try {
                t2i = AutoPipelineForText2Image.fromPipe(base, base.pagEnabled(), base.pagAppliedLayers(), nets);
            } catch (RuntimeException e) {
                nets.close();
                throw e;
            }
            return img2img ? AutoPipelineForImage2Image.fromPipe(t2i, base.pagEnabled()) : t2i;
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /**
     * The SD 1.x/2.x ControlNet text-to-image (or, with {@code inpaint}, inpainting) pipeline over {@code base}'s
     * modules; {@code base} is closed on failure.
     */
    private static StableDiffusionPAGPipeline withControlNet(StableDiffusionPAGPipeline base, ControlNetArgs control,
            boolean fp16, boolean inpaint) {
        try {
            List<dev.pagoda.nn.controlnet.ControlNetModel> nets = control.loadNets(fp16);
            try {
                return inpaint ? SdPipelines.inpaint(base, base.pagEnabled(), base.pagAppliedLayers(), nets)
                        : SdPipelines.text2Image(base, base.pagEnabled(), base.pagAppliedLayers(), nets);
            } catch (RuntimeException e) {
                nets.forEach(dev.pagoda.nn.controlnet.ControlNetModel::close);
                throw e;
            }
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /** Exit code of a run stopped by Ctrl-C (128 + SIGINT, what a shell reports for it). */
    static final int CANCELLED = 130;

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = new Args(argv, 1, VALUED, SWITCHES);
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument \"" + a.positional().get(0) + "\" (see --help)");
        }
        String prompt = a.require("prompt");
        String modelArg = a.require("model");
        Path outPath = a.outputFile("out.png");
        Path singleFile = modelArg.endsWith(".safetensors") ? Path.of(modelArg) : null;
        if (singleFile != null && !Files.isRegularFile(singleFile)) {
            throw new UsageException("checkpoint file " + modelArg + " not found");
        }
        Path config = null;
        if (a.has("config")) {
            if (singleFile == null) {
                throw new UsageException("--config applies to a single-file --model (a .safetensors checkpoint)");
            }
            config = ModelLocator.resolve(a.get("config", null));
        }
        Path model = singleFile != null ? singleFile : ModelLocator.resolve(modelArg);
        if (a.has("vae") && singleFile != null) {
            throw new UsageException("--vae applies to a pipeline folder --model (a single file carries its own VAE)");
        }
        Path vae = a.has("vae") ? ModelLocator.resolve(a.get("vae", null)) : null;
        boolean pixart = singleFile == null && PixArtComponents.isPixArtFolder(model);
        boolean sd = singleFile == null && dev.pagoda.diffusion.pipeline.SdComponents.isSdFolder(model);
        if (sd) {
            for (String f : List.of("mask", "prompt-2", "negative-prompt-2", "lora", "ip-adapter")) {
                // SD inpainting is diffusers' StableDiffusionControlNetPAGInpaintPipeline: a mask needs nets
                if (a.has(f) && !(f.equals("mask") && a.has("controlnet"))) {
                    throw new UsageException("--" + f + " does not apply to the Stable Diffusion 1.x/2.x pipelines of "
                            + model + " (SDXL only)");
                }
            }
        }
        if (pixart) {
            for (String f : List.of("init-image", "mask", "strength", "prompt-2", "negative-prompt-2",
                    "guidance-rescale", "tiled-vae", "vae-tile", "padding-mask-crop")) {
                if (a.has(f)) {
                    throw new UsageException("--" + f + " does not apply to the PixArt-Sigma text-to-image pipeline of "
                            + model);
                }
            }
        } else if (a.has("max-sequence-length") || a.has("no-resolution-binning")) {
            throw new UsageException("--max-sequence-length and --no-resolution-binning apply to PixArt models only");
        }
        int maxSeq = a.integer("max-sequence-length", 300);
        if (maxSeq <= 0) {
            throw new UsageException("--max-sequence-length must be positive, got " + maxSeq);
        }
        int steps = a.integer("steps", pixart ? 20 : 25);
        if (steps <= 0) {
            throw new UsageException("--steps must be positive, got " + steps);
        }
        Integer width = a.imageSide("width");
        Integer height = a.imageSide("height");
        InputImageArgs input = InputImageArgs.parse(a);
        int vaeTile = a.has("vae-tile") ? a.integer("vae-tile", 0) : 0;
        if (a.has("vae-tile") && (vaeTile < 8 || vaeTile % 8 != 0)) {
            throw new UsageException("--vae-tile must be a positive multiple of 8 pixels, got " + a.get("vae-tile", null));
        }
        boolean tiledVae = a.has("tiled-vae") || vaeTile > 0;
        ControlNetArgs control = ControlNetArgs.parse(a);
        if (control != null && sd && a.has("init-image") && !a.has("mask")) {
            throw new UsageException("--controlnet with a Stable Diffusion 1.x/2.x model is text-to-image only (no"
                    + " --init-image: diffusers' StableDiffusionControlNetPAGPipeline) or inpainting (--init-image with"
                    + " --mask: StableDiffusionControlNetPAGInpaintPipeline)");
        }
        if (control != null && sd && a.has("mask") && a.has("guess-mode")) {
            throw new UsageException("--guess-mode: diffusers' StableDiffusionControlNetPAGInpaintPipeline has no guess"
                    + " mode");
        }
        if (control != null && (pixart || a.has("mask") && !sd)) {
            throw new UsageException("--controlnet applies to SDXL text-to-image and image-to-image (not "
                    + (pixart ? "PixArt" : "inpainting with --mask") + ")");
        }
        // the model's own scheduler_config.json unless --scheduler is given, as diffusers
        String scheduler = a.get("scheduler", null);
        if (scheduler != null && !SCHEDULERS.containsKey(scheduler)) {
            throw new UsageException("--scheduler must be one of " + SCHEDULERS.keySet() + ", got " + scheduler);
        }
        SchedulerChoice schedulerChoice = schedulerChoice(scheduler == null ? null : SCHEDULERS.get(scheduler),
                a.get("scheduler-config", null), a.has("karras"));
        float cfg = a.number("cfg", pixart ? 4.5f : sd ? 7.5f : 5f); // each pipeline's own default in diffusers
        float pagScale = a.number("pag-scale", 3f);
        float adaptive = a.number("pag-adaptive-scale", 0f);
        float rescale = a.number("guidance-rescale", 0f);
        if (cfg < 0 || pagScale < 0 || adaptive < 0 || rescale < 0) {
            throw new UsageException("--cfg, --pag-scale, --pag-adaptive-scale and --guidance-rescale must be >= 0");
        }
        List<String> layers = LayerPatterns.split(a.get("pag-layers", pixart ? "blocks.1" : "mid"));
        if (layers.isEmpty()) {
            throw new UsageException("--pag-layers is empty");
        }
        long seed = a.longValue("seed", 0);
        Integer clipSkip = a.has("clip-skip") ? a.integer("clip-skip", 0) : null;
        if (clipSkip != null && clipSkip < 0) {
            throw new UsageException("--clip-skip must be >= 0, got " + clipSkip);
        }
        float eta = a.number("eta", 0f);
        if (!(eta >= 0) || !Float.isFinite(eta)) {
            throw new UsageException("--eta must be a finite number >= 0, got " + a.get("eta", null));
        }
        float[] customTimesteps = a.has("timesteps") ? numbers(a, "timesteps") : null;
        float[] customSigmas = a.has("sigmas") ? numbers(a, "sigmas") : null;
        if (customTimesteps != null && customSigmas != null) {
            throw new UsageException("give --timesteps or --sigmas, not both");
        }
        if ((customTimesteps != null || customSigmas != null) && a.has("steps")) {
            throw new UsageException("--timesteps/--sigmas set the whole schedule: they exclude --steps");
        }
        if (customSigmas != null && customSigmas.length < 2) {
            throw new UsageException("--sigmas needs at least 2 levels (the last is the final level)");
        }
        List<Path> loraFiles = new java.util.ArrayList<>();
        List<Float> loraWeights = new java.util.ArrayList<>();
        for (String spec : a.all("lora")) {
            int colon = spec.lastIndexOf(':');
            Float w = null;
            if (colon > 0) {
                try {
                    w = Float.parseFloat(spec.substring(colon + 1));
                } catch (NumberFormatException e) {
                    w = null;
                }
            }
            Path f = Path.of(w != null ? spec.substring(0, colon) : spec);
            if (!Files.isRegularFile(f)) {
                throw new UsageException("LoRA file " + f + " not found (--lora " + spec + ")");
            }
            if (w != null && !Float.isFinite(w)) {
                throw new UsageException("--lora weight must be a finite number, got " + spec);
            }
            loraFiles.add(f);
            loraWeights.add(w != null ? w : 1f);
        }
        if (pixart && !loraFiles.isEmpty()) {
            throw new UsageException("--lora applies to SDXL models only");
        }
        IpAdapterArgs ipAdapter = IpAdapterArgs.parse(a);
        if (pixart && !ipAdapter.isEmpty()) {
            throw new UsageException("--ip-adapter applies to SDXL models only");
        }
        RefinerArgs refiner = RefinerArgs.parse(a, model, singleFile == null && !pixart && !sd);
        if (refiner != null && !ipAdapter.isEmpty()) {
            throw new UsageException("--refiner does not combine with --ip-adapter");
        }

        Progress progress = new Progress(err);
        InputImageArgs.Loaded inputImages = null;
        if (a.has("init-image")) {
            progress.stage("load image");
            inputImages = input.load(a, width, height);
            width = inputImages.width();
            height = inputImages.height();
        }

        List<BufferedImage> controlImages = null;
        if (control != null) {
            progress.stage("load control images");
            controlImages = control.loadImages();
        }

        Backend backend = Main.backend(a.get("backend", "cpu"));
        // the memory estimate reads a pipeline folder's weight files; a single file is mapped whole, uncopied
        if (!a.has("no-memory-check") && !pixart && singleFile == null) {
            int dflt = UNetConfig.from(JsonConfig.read(model.resolve("unet/config.json"))).sampleSize() * 8;
            int rows = (cfg > 1 ? 1 : 0) + 1 + (pagScale > 0 ? 1 : 0);
            MemoryGuard.check(model, new MemoryGuard.Request(height != null ? height : dflt,
                    width != null ? width : dflt, rows, a.fp16Variant(), tiledVae, vaeTile),
                    MemoryGuard.Budget.current());
        }
        progress.stage("load " + model);
        PipelineOptions opts = new PipelineOptions(pagScale > 0, layers, a.fp16Variant()).backend(backend).vae(vae);
        DiffusionPipeline loaded;
        if (singleFile != null) {
            loaded = a.has("mask") ? AutoPipelineForInpainting.fromSingleFile(singleFile, config, opts)
                    : a.has("init-image") ? AutoPipelineForImage2Image.fromSingleFile(singleFile, config, opts)
                    : AutoPipelineForText2Image.fromSingleFile(singleFile, config, opts);
        } else {
            // SD inpainting: the text-to-image base, turned into the ControlNet inpainting pipeline with its nets
            loaded = a.has("mask") && !sd ? AutoPipelineForInpainting.fromPretrained(model, opts)
                    : a.has("init-image") && !a.has("mask") ? AutoPipelineForImage2Image.load(model, opts)
                    : AutoPipelineForText2Image.load(model, opts);
        }
        if (control != null) {
            progress.stage("load ControlNet");
        }
        DiffusionPipeline pipe = control == null ? loaded
                : loaded instanceof StableDiffusionPAGPipeline sdBase
                        ? withControlNet(sdBase, control, a.fp16Variant(), a.has("mask"))
                : withControlNet((SdxlPipeline) loaded, control, a.fp16Variant(), a.has("init-image"));
        SdxlPipeline refinerPipe = null;
        if (refiner != null) {
            progress.stage("load refiner " + refiner.folder());
            try {
                refinerPipe = AutoPipelineForImage2Image.fromPretrained(refiner.folder(),
                        new PipelineOptions(pagScale > 0, layers, a.fp16Variant()).backend(backend));
            } catch (RuntimeException e) {
                pipe.close();
                throw e;
            }
        }
        List<String> loraNames = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < loraFiles.size(); i++) {
                String name = "lora" + i + "_" + loraFiles.get(i).getFileName();
                ((SdxlPipeline) pipe).loadLoraWeights(loraFiles.get(i), name);
                loraNames.add(name);
            }
            if (!loraNames.isEmpty()) {
                ((SdxlPipeline) pipe).setAdapters(loraNames, loraWeights);
            }
            if (!ipAdapter.isEmpty()) {
                progress.stage("load IP-Adapter");
                ipAdapter.apply((SdxlPipeline) pipe);
            }
        } catch (RuntimeException e) {
            pipe.close();
            throw e;
        }
        // Ctrl-C: ask the run to stop at its next step and keep the JVM alive until it has unwound
        // (so no output is written and the weights are unmapped after the last kernel)
        Cancellation cancel = new Cancellation();
        java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            cancel.cancel();
            err.println();
            err.println("pagoda: interrupted, stopping after the current step");
            err.flush();
            try {
                ended.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pagoda-cancel");
        Runtime.getRuntime().addShutdownHook(hook);
        try (pipe; SdxlPipeline refinerRun = refinerPipe) {
            for (DiffusionPipeline each : refinerRun == null ? List.of(pipe) : List.of(pipe, refinerRun)) {
                if (a.has("pag-strict")) {
                    each.setPagAppliedLayers(layers, PagLayers.Mode.STRICT);
                }
                each.setScheduler(schedulerChoice);
                if (vaeTile > 0) {
                    each.vae().setTiling(true, vaeTile);
                } else {
                    each.vae().setTiling(tiledVae);
                }
                if (each instanceof SdxlPipeline sdxl) {
                    // one image per process: the text encoders' pages need not stay resident beside the UNet's
                    sdxl.components().setUnloadTextEncoderPages(true);
                }
            }

            GenerationParams.Builder b = GenerationParams.builder(prompt)
                    .prompt2(a.get("prompt-2", null))
                    .negativePrompt(a.get("negative-prompt", null))
                    .negativePrompt2(a.get("negative-prompt-2", null))
                    .steps(steps).guidanceScale(cfg).pagScale(pagScale).pagAdaptiveScale(adaptive)
                    .guidanceRescale(rescale).clipSkip(clipSkip).eta(eta)
                    // one generator for the base and the refiner, as diffusers' ensemble-of-experts recipe
                    .noise(dev.pagoda.tensor.random.NoiseSource.seeded(seed))
                    .callback(s -> progress.step(s.index(), s.steps()))
                    .cancellation(cancel)
                    .checkFinite(!a.has("no-finite-check"))
                    .maxSequenceLength(maxSeq)
                    .useResolutionBinning(!a.has("no-resolution-binning"));
            if (width != null || height != null) {
                int dflt = pipe.defaultImageSize();
                b.size(height != null ? height : dflt, width != null ? width : dflt);
            }
            if (inputImages != null) {
                inputImages.applyTo(b, input);
            }
            if (customTimesteps != null) {
                b.timesteps(customTimesteps);
            }
            if (customSigmas != null) {
                b.sigmas(customSigmas);
            }
            ipAdapter.addTo(b);
            if (control != null) {
                b.controlNet(control.params(controlImages));
            }
            pipe.setStageListener(progress::stage);
            GenerationResult r;
            if (refinerRun != null) {
                GenerationParams baseParams = b.denoisingEnd(refiner.highNoiseFrac())
                        .outputType(GenerationParams.OutputType.LATENT).build();
                Tensor handOff = pipe.generate(baseParams).latents();
                refinerRun.setStageListener(progress::stage);
                GenerationResult refined = refinerRun.generate(baseParams.toBuilder().denoisingEnd(null)
                        .denoisingStart(refiner.highNoiseFrac()).image(handOff)
                        .outputType(GenerationParams.OutputType.IMAGE).build());
                r = refined;
            } else {
                r = pipe.generate(b.build());
            }
            progress.stage("write " + outPath);
            // the call's own settings (prompt, steps, scales, PAG layers, size, scheduler), then the CLI's
            Map<String, String> text = new LinkedHashMap<>(r.parameters());
            text.put("seed", Long.toString(seed));
            text.put("model", modelArg);
            if (refiner != null) {
                text.put("refiner", refiner.folder().toString());
                text.put("high_noise_frac", Double.toString(refiner.highNoiseFrac()));
            }
            if (control != null) {
                control.describe(text);
            }
            if (!loraFiles.isEmpty()) {
                List<String> l = new java.util.ArrayList<>();
                for (int i = 0; i < loraFiles.size(); i++) {
                    l.add(loraFiles.get(i) + ":" + loraWeights.get(i));
                }
                text.put("loras", String.join(";", l));
            }
            if (!ipAdapter.isEmpty()) {
                text.put("ip_adapters", ipAdapter.describe());
            }
            if (pixart) {
                text.put("max_sequence_length", Integer.toString(maxSeq));
            }
            if (a.has("init-image")) {
                text.put("strength", input.strength() == null ? "default" : Float.toString(input.strength()));
                text.put("mode", a.has("mask") ? "inpaint" : "img2img");
            }
            text.put("backend", backend.toString());
            text.put("software", "Pagoda " + Main.VERSION);
            if (cancel.isCancelled()) {
                throw new GenerationCancelledException(steps, steps);
            }
            PngWriter.write(ImageTensors.toImage(r.image()), text, outPath);
        } catch (GenerationCancelledException e) {
            progress.done();
            err.println("pagoda: " + e.getMessage() + "; nothing written");
            return CANCELLED;
        } finally {
            ended.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down (Ctrl-C): the hook is running and now returns
            }
        }
        progress.summary("wrote " + outPath + (backend.peakDeviceBytes() > 0 ? String.format(java.util.Locale.ROOT,
                " (%s, peak device memory %.1f MiB)", backend, backend.peakDeviceBytes() / 1048576.0) : ""));
        return 0;
    }

    /** A comma-separated list of finite numbers >= 0 ({@code --timesteps}, {@code --sigmas}). */
    private static float[] numbers(Args a, String key) {
        String[] parts = a.get(key, "").split(",", -1);
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + key + " must be comma-separated numbers, got \"" + a.get(key, "")
                        + "\" (entry " + (i + 1) + ": \"" + parts[i].trim() + "\")");
            }
            if (!Float.isFinite(v[i]) || v[i] < 0) {
                throw new UsageException("--" + key + " entries must be finite numbers >= 0, got " + parts[i].trim());
            }
        }
        return v;
    }
}
