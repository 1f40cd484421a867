package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DeviceMemoryException;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The loaded parts of an SDXL pipeline folder ({@code model_index.json} and one folder per part).
 * Weights are memory-mapped in their stored dtype; {@link #close()} unmaps them. Pipelines made with
 * {@code fromPipe} share one instance, so no weight exists twice.
 */
public final class SdxlComponents implements AutoCloseable {

    private static final Map<String, String> EXPECTED = Map.of(
            "unet", "UNet2DConditionModel",
            "vae", "AutoencoderKL",
            "text_encoder", "CLIPTextModel",
            "text_encoder_2", "CLIPTextModelWithProjection",
            "tokenizer", "CLIPTokenizer",
            "tokenizer_2", "CLIPTokenizer");
    private static final Set<String> PIPELINES = Set.of("StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline",
            "StableDiffusionXLInpaintPipeline", "StableDiffusionXLPAGPipeline", "StableDiffusionXLPAGImg2ImgPipeline",
            "StableDiffusionXLPAGInpaintPipeline");

    private final Path folder;
    private final ClipTokenizer tokenizer;
    private final ClipTokenizer tokenizer2;
    private final ClipTextModel textEncoder;
    private final ClipTextModel textEncoder2;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final Path schedulerConfig;
    private final boolean forceZerosForEmptyPrompt;
    private final List<TensorStore> stores;
    private int running;
    private boolean closed;

    private SdxlComponents(Path folder, ClipTokenizer tokenizer, ClipTokenizer tokenizer2, ClipTextModel textEncoder,
            ClipTextModel textEncoder2, UNet2DConditionModel unet, AutoencoderKL vae, Path schedulerConfig,
            boolean forceZerosForEmptyPrompt, List<TensorStore> stores) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.tokenizer2 = tokenizer2;
        this.textEncoder = textEncoder;
        this.textEncoder2 = textEncoder2;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
        this.stores = stores;
    }

    /**
     * Loads every part of the SDXL folder {@code dir}.
     *
     * @param preferFp16 use {@code *.fp16.safetensors} variants where they exist
     */
    public static SdxlComponents load(Path dir, boolean preferFp16) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": model folder not found");
        }
        Path index = dir.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            throw new ConfigException(dir + ": not a diffusers pipeline folder (no model_index.json)");
        }
        JsonConfig mi = JsonConfig.read(index);
        String cls = mi.string("_class_name");
        if (!PIPELINES.contains(cls)) {
            throw new ConfigException(index + ": unsupported pipeline class \"" + cls + "\" (supported: "
                    + new java.util.TreeSet<>(PIPELINES) + ")");
        }
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            Object v = mi.raw(e.getKey());
            if (!(v instanceof List<?> l) || l.size() != 2 || !e.getValue().equals(l.get(1))) {
                throw new ConfigException(index + ": component \"" + e.getKey() + "\" must be " + e.getValue()
                        + ", found " + v);
            }
        }
        List<TensorStore> stores = new ArrayList<>();
        try {
            ClipTokenizer tok = ClipTokenizer.fromFolder(dir.resolve("tokenizer"));
            ClipTokenizer tok2 = ClipTokenizer.fromFolder(dir.resolve("tokenizer_2"));
            ClipTextModel te = ClipTextModel.fromConfig(dir.resolve("text_encoder/config.json"));
            load(te, dir.resolve("text_encoder"), "model", preferFp16, ClipTextModel.IGNORED_KEYS, stores);
            ClipTextModel te2 = ClipTextModel.fromConfig(dir.resolve("text_encoder_2/config.json"));
            load(te2, dir.resolve("text_encoder_2"), "model", preferFp16, ClipTextModel.IGNORED_KEYS, stores);
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(dir.resolve("unet/config.json"));
            load(unet, dir.resolve("unet"), "diffusion_pytorch_model", preferFp16, Set.of(), stores);
            AutoencoderKL vae = AutoencoderKL.fromConfig(dir.resolve("vae/config.json"));
            load(vae, dir.resolve("vae"), "diffusion_pytorch_model", preferFp16, Set.of(), stores);
            Path sched = dir.resolve("scheduler/scheduler_config.json");
            if (!Files.isRegularFile(sched)) {
                throw new ConfigException(sched + ": scheduler config not found");
            }
            return new SdxlComponents(dir, tok, tok2, te, te2, unet, vae, sched,
                    mi.bool("force_zeros_for_empty_prompt", true), stores);
        } catch (RuntimeException e) {
            stores.forEach(TensorStore::close);
            throw e;
        }
    }

    private static void load(Module m, Path folder, String stem, boolean preferFp16, Set<String> ignored,
            List<TensorStore> stores) {
        TensorStore store = WeightFiles.open(folder, stem, preferFp16);
        stores.add(store);
        WeightLoader.load(m, store, "", ignored);
    }

    private Backend backend = Backend.cpu();

    public Path folder() {
        return folder;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTokenizer tokenizer2() {
        return tokenizer2;
    }

    public ClipTextModel textEncoder() {
        return textEncoder;
    }

    public ClipTextModel textEncoder2() {
        return textEncoder2;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public Path schedulerConfig() {
        return schedulerConfig;
    }

    public boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    /** The backend the denoiser and the VAE run on (the text encoders stay on the CPU). */
    public Backend backend() {
        return backend;
    }

    /**
     * Moves the UNet and VAE weights to {@code target} once, in their stored dtypes, after checking
     * that they fit its memory; the text encoders (run once per prompt) stay on the host. Moving to
     * the backend they are already on does nothing.
     *
     * @throws DeviceMemoryException when the weights exceed the device's memory
     */
    public SdxlComponents to(Backend target) {
        if (target == backend) {
            return this;
        }
        long bytes = unet.parameterBytes() + vae.parameterBytes();
        if (bytes > target.deviceMemoryBytes()) {
            throw new DeviceMemoryException(String.format("%s: the UNet and VAE weights of %s need %.1f MiB, but the "
                    + "device has %.1f MiB", target, folder, bytes / 1048576.0, target.deviceMemoryBytes() / 1048576.0));
        }
        unet.to(target);
        vae.to(target);
        backend = target;
        return this;
    }

    public SdxlPromptEncoder promptEncoder() {
        return new SdxlPromptEncoder(tokenizer, tokenizer2, textEncoder, textEncoder2, forceZerosForEmptyPrompt);
    }

    /**
     * Marks a run that reads the weights; the run must {@link #release()} when done. Refused once
     * {@link #close()} has begun.
     *
     * @throws IllegalStateException when the components are closed or closing
     */
    synchronized void acquire() {
        if (closed) {
            throw new IllegalStateException(folder + ": the pipeline is closed (its weights are unmapped)");
        }
        running++;
    }

    synchronized void release() {
        running--;
        notifyAll();
    }

    /**
     * Unmaps the weights, after waiting for every running call to end (calls that start meanwhile
     * are refused): weights are never unmapped under a running kernel. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed && running == 0 && stores.isEmpty()) {
                return;
            }
            closed = true;
            boolean interrupted = false;
            while (running > 0) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            stores.forEach(TensorStore::close);
            stores.clear();
        }
    }
}
