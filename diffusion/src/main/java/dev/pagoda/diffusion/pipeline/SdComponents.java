package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DeviceMemoryException;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The loaded parts of a Stable Diffusion 1.x / 2.x pipeline folder: one CLIP tokenizer and text
 * encoder, the UNet (no addition embedding), the VAE and the scheduler config. The safety checker and
 * feature extractor a folder may name are not loaded (Pagoda runs as diffusers with
 * {@code safety_checker=None}). Weights are memory-mapped in their stored dtype; pipelines made from
 * one instance share it; the last of them to close (or {@link #close()}) unmaps once no call is running.
 */
public final class SdComponents implements AutoCloseable {

    private static final Map<String, String> EXPECTED = Map.of(
            "unet", "UNet2DConditionModel",
            "vae", "AutoencoderKL",
            "text_encoder", "CLIPTextModel",
            "tokenizer", "CLIPTokenizer");
    static final Set<String> PIPELINES = Set.of("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
            "StableDiffusionPAGPipeline", "StableDiffusionPAGImg2ImgPipeline");

    private final Path folder;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final Path schedulerConfig;
    private final List<TensorStore> stores;
    private Backend backend = Backend.cpu();
    private int running;
    private boolean closed;
    private final Shares shares = new Shares(this::close);
    private final AttachedControlNets controlNets = new AttachedControlNets();

    private SdComponents(Path folder, ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
            AutoencoderKL vae, Path schedulerConfig, List<TensorStore> stores) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.stores = stores;
    }

    /** Whether {@code dir}'s {@code model_index.json} names an SD 1.x/2.x pipeline class. */
    public static boolean isSdFolder(Path dir) {
        Path index = dir.resolve("model_index.json");
        return Files.isRegularFile(index) && JsonConfig.read(index).raw("_class_name") instanceof String s
                && PIPELINES.contains(s);
    }

    /**
     * Loads every part of the SD 1.x/2.x folder {@code dir}.
     *
     * @param preferFp16 use {@code *.fp16.safetensors} variants where they exist
     * @throws ConfigException naming the file or part that is missing or not what an SD pipeline has
     */
    public static SdComponents load(Path dir, boolean preferFp16) {
        return load(dir, preferFp16, null);
    }

    /**
     * As {@link #load(Path, boolean)}, with the UNet from its own folder (diffusers' {@code unet=}, e.g. a
     * 9-channel inpainting UNet) instead of {@code dir/unet}; null for that.
     */
    public static SdComponents load(Path dir, boolean preferFp16, Path unetDir) {
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
                    + new TreeSet<>(PIPELINES) + ")");
        }
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(EXPECTED).entrySet()) {
            Object v = mi.raw(e.getKey());
            if (!(v instanceof List<?> l) || l.size() != 2 || !e.getValue().equals(l.get(1))) {
                throw new ConfigException(index + ": component \"" + e.getKey() + "\" must be " + e.getValue()
                        + ", found " + v);
            }
            if (!Files.isDirectory(dir.resolve(e.getKey()))) {
                throw new ConfigException(dir + ": the " + e.getKey() + " folder (" + e.getValue()
                        + ") named by model_index.json is missing");
            }
        }
        Path sched = dir.resolve("scheduler/scheduler_config.json");
        if (!Files.isRegularFile(sched)) {
            throw new ConfigException(sched + ": scheduler config not found");
        }
        List<TensorStore> stores = new ArrayList<>();
        try {
            ClipTokenizer tok = ClipTokenizer.fromFolder(dir.resolve("tokenizer"), dir.resolve("tokenizer"));
            ClipTextModel te = ClipTextModel.fromConfig(dir.resolve("text_encoder/config.json"));
            WeightLoader.load(te, open(dir, "text_encoder", "model", preferFp16, stores), "", ClipTextModel.IGNORED_KEYS);
            Path unetFolder = unetDir == null ? dir.resolve("unet") : unetDir;
            if (!Files.isRegularFile(unetFolder.resolve("config.json"))) {
                throw new ConfigException(unetFolder + ": no config.json for the unet");
            }
            UNetConfig uc = UNetConfig.from(JsonConfig.read(unetFolder.resolve("config.json")));
            if (uc.textTime()) {
                throw new ConfigException(unetFolder.resolve("config.json") + ": addition_embed_type text_time is an"
                        + " SDXL UNet; an SD 1.x/2.x UNet has none");
            }
            int width = te.config().hiddenSize();
            if (uc.crossAttentionDim() != width) {
                throw new ConfigException(unetFolder.resolve("config.json") + ": cross_attention_dim "
                        + uc.crossAttentionDim() + " does not match the text encoder's hidden_size " + width);
            }
            UNet2DConditionModel unet = new UNet2DConditionModel(uc);
            TensorStore unetWeights = WeightFiles.open(unetFolder, "diffusion_pytorch_model", preferFp16);
            stores.add(unetWeights);
            WeightLoader.load(unet, unetWeights, "", Set.of());
            AutoencoderKL vae = AutoencoderKL.fromConfig(dir.resolve("vae/config.json"));
            WeightLoader.load(vae, open(dir, "vae", "diffusion_pytorch_model", preferFp16, stores), "", Set.of());
            return new SdComponents(dir, tok, te, unet, vae, sched, stores);
        } catch (RuntimeException e) {
            stores.forEach(TensorStore::close);
            throw e;
        }
    }

    private static TensorStore open(Path dir, String part, String name, boolean fp16, List<TensorStore> stores) {
        TensorStore s = WeightFiles.open(dir.resolve(part), name, fp16);
        stores.add(s);
        return s;
    }

    public Path folder() {
        return folder;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTextModel textEncoder() {
        return textEncoder;
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

    /** The backend the UNet and VAE run on (the text encoder stays on the CPU). */
    public Backend backend() {
        return backend;
    }

    /**
     * Moves the UNet and VAE weights to {@code target} once, in their stored dtypes, after checking
     * that they fit its memory.
     *
     * @throws DeviceMemoryException when the weights exceed the device's memory
     */
    public SdComponents to(Backend target) {
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
        controlNets.moveTo(target);
        backend = target;
        return this;
    }

    /**
     * Takes ControlNets into these components: moves them to the components' backend (and along with any
     * later {@link #to}) and closes them with the weights. Returns them as one {@link MultiControlNetModel},
     * or null for an empty list.
     */
    public synchronized MultiControlNetModel attachControlNets(List<ControlNetModel> nets) {
        return controlNets.attach(nets, backend);
    }

    SdPromptEncoder promptEncoder() {
        return new SdPromptEncoder(tokenizer, textEncoder);
    }

    /** The share a pipeline built on these components holds until its {@code close()}. */
    Shares.Share share() {
        return shares.take(folder.toString());
    }

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

    /** Waits for running calls, refuses new ones, then unmaps every weight file. Idempotent. */
    @Override
    public synchronized void close() {
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
        stores.forEach(TensorStore::close);
        stores.clear();
        controlNets.close();
    }
}
