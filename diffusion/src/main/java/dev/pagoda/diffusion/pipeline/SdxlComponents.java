package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DeviceMemoryException;

import dev.pagoda.diffusion.lora.LoraAdapters;
import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.diffusion.image.ClipImageProcessor;
import dev.pagoda.diffusion.ipadapter.IpAdapters;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.ipadapter.IpAdapter;
import dev.pagoda.nn.ipadapter.IpAdapterException;
import dev.pagoda.nn.ipadapter.IpAdapterLoader;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.unet.UNetConfig;
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
    private final boolean requiresAestheticsScore;
    private final List<TensorStore> stores;
    private volatile IpAdapters ipAdapters = IpAdapters.NONE;
    private final LoraAdapters lora;
    private int running;
    private boolean closed;
    private final Shares shares = new Shares(this::close);

    private SdxlComponents(Path folder, ClipTokenizer tokenizer, ClipTokenizer tokenizer2, ClipTextModel textEncoder,
            ClipTextModel textEncoder2, UNet2DConditionModel unet, AutoencoderKL vae, Path schedulerConfig,
            boolean forceZerosForEmptyPrompt, boolean requiresAestheticsScore, List<TensorStore> stores) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.tokenizer2 = tokenizer2;
        this.textEncoder = textEncoder;
        this.textEncoder2 = textEncoder2;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
        this.requiresAestheticsScore = requiresAestheticsScore;
        this.stores = stores;
        Map<String, Module> loraTargets = new java.util.HashMap<>(Map.of("unet", unet, "text_encoder_2", textEncoder2));
        if (textEncoder != null) {
            loraTargets.put("text_encoder", textEncoder);
        }
        this.lora = new LoraAdapters(loraTargets);
    }

    /**
     * Loads every part of the SDXL folder {@code dir}.
     *
     * @param preferFp16 use {@code *.fp16.safetensors} variants where they exist
     */
    public static SdxlComponents load(Path dir, boolean preferFp16) {
        return load(dir, preferFp16, null, null);
    }

    /**
     * Loads the SDXL folder {@code dir}, with the VAE and/or the UNet from their own model folders
     * ({@code config.json} + weights, e.g. {@code madebyollin/sdxl-vae-fp16-fix}) instead of the
     * folder's {@code vae/} and {@code unet/}, as diffusers' {@code from_pretrained(..., vae=...)}.
     *
     * @param vaeDir  a VAE folder, or null for {@code dir/vae}
     * @param unetDir a UNet folder, or null for {@code dir/unet}
     * @throws ConfigException naming the folder when a part is missing or does not fit the pipeline
     */
    public static SdxlComponents load(Path dir, boolean preferFp16, Path vaeDir, Path unetDir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": model folder not found");
        }
        boolean refiner = !hasTextEncoder(checkIndex(dir));
        Map<String, Path> folders = new java.util.HashMap<>();
        for (String part : refiner ? List.of("text_encoder_2", "unet", "vae")
                : List.of("text_encoder", "text_encoder_2", "unet", "vae")) {
            folders.put(part, dir.resolve(part));
        }
        for (Map.Entry<String, Path> e : Map.of("vae", vaeDir == null ? dir.resolve("vae") : vaeDir,
                "unet", unetDir == null ? dir.resolve("unet") : unetDir).entrySet()) {
            if (!Files.isRegularFile(e.getValue().resolve("config.json"))) {
                throw new ConfigException(e.getValue() + ": no config.json for the " + e.getKey());
            }
            folders.put(e.getKey(), e.getValue());
        }
        List<TensorStore> stores = new ArrayList<>();
        try {
            Map<String, TensorStore> weights = new java.util.HashMap<>();
            for (Map.Entry<String, Path> e : folders.entrySet()) {
                TensorStore s = WeightFiles.open(e.getValue(),
                        e.getKey().startsWith("text_encoder") ? "model" : "diffusion_pytorch_model", preferFp16);
                stores.add(s);
                weights.put(e.getKey(), s);
            }
            UNetConfig unetConfig = UNetConfig.from(JsonConfig.read(folders.get("unet").resolve("config.json")));
            return assemble(dir, dir, null, unetConfig, folders.get("vae"), weights, stores);
        } catch (RuntimeException e) {
            stores.forEach(TensorStore::close);
            throw e;
        }
    }

    /**
     * Checks that {@code dir}'s {@code model_index.json} describes an SDXL pipeline with the parts Pagoda
     * builds; returns it.
     *
     * @throws ConfigException naming the file and the part that differs
     */
    static JsonConfig checkIndex(Path dir) {
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
        boolean refiner = !hasTextEncoder(mi);
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            Object v = mi.raw(e.getKey());
            if (refiner && (e.getKey().equals("text_encoder") || e.getKey().equals("tokenizer"))) {
                // the refiner layout: text_encoder and tokenizer both null, only the second encoder
                if (!isNullComponent(v)) {
                    throw new ConfigException(index + ": component \"" + e.getKey() + "\" must be null when"
                            + " text_encoder is null (the SDXL refiner layout), found " + v);
                }
                continue;
            }
            if (!(v instanceof List<?> l) || l.size() != 2 || !e.getValue().equals(l.get(1))) {
                throw new ConfigException(index + ": component \"" + e.getKey() + "\" must be " + e.getValue()
                        + ", found " + v);
            }
        }
        return mi;
    }

    /** False for the SDXL refiner layout ({@code "text_encoder": [null, null]}): only text_encoder_2 exists. */
    static boolean hasTextEncoder(JsonConfig mi) {
        return !isNullComponent(mi.raw("text_encoder"));
    }

    private static boolean isNullComponent(Object v) {
        return v == null || v instanceof List<?> l && l.stream().allMatch(java.util.Objects::isNull);
    }

    /**
     * Builds the parts from the configs and tokenizer files of the diffusers folder {@code configDir}
     * (its weights are not read) and binds them to {@code weights}, one store per part under its
     * folder name ({@code text_encoder}, {@code text_encoder_2}, {@code unet}, {@code vae}).
     * {@code owned} are closed by {@link #close()}; on failure the caller closes them.
     *
     * @param source what the weights come from (a folder or a single file), for messages
     * @param bpeFolder where the tokenizers' vocab.json and merges.txt are, or null for each tokenizer's folder
     * @param vaeDir    the folder whose {@code config.json} describes the VAE
     */
    static SdxlComponents assemble(Path source, Path configDir, Path bpeFolder, UNetConfig unetConfig, Path vaeDir,
            Map<String, TensorStore> weights, List<TensorStore> owned) {
        JsonConfig mi = checkIndex(configDir);
        boolean both = hasTextEncoder(mi);
        Path tok2Dir = configDir.resolve("tokenizer_2");
        ClipTokenizer tok = null;
        ClipTextModel te = null;
        if (both) {
            Path tokDir = configDir.resolve("tokenizer");
            tok = ClipTokenizer.fromFolder(tokDir, bpeFolder != null ? bpeFolder : tokDir);
            te = ClipTextModel.fromConfig(configDir.resolve("text_encoder/config.json"));
            WeightLoader.load(te, weights.get("text_encoder"), "", ClipTextModel.IGNORED_KEYS);
        }
        ClipTokenizer tok2 = ClipTokenizer.fromFolder(tok2Dir, bpeFolder != null ? bpeFolder : tok2Dir);
        ClipTextModel te2 = ClipTextModel.fromConfig(configDir.resolve("text_encoder_2/config.json"));
        WeightLoader.load(te2, weights.get("text_encoder_2"), "", ClipTextModel.IGNORED_KEYS);
        int textWidth = (both ? te.config().hiddenSize() : 0) + te2.config().hiddenSize();
        if (unetConfig.crossAttentionDim() != textWidth) {
            throw new ConfigException(source + ": the UNet's cross_attention_dim " + unetConfig.crossAttentionDim()
                    + " does not fit " + (both ? "the two text encoders' " : "text_encoder_2's (the refiner layout) ")
                    + textWidth + " hidden features");
        }
        UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig);
        WeightLoader.load(unet, weights.get("unet"), "", Set.of());
        // force_upcast needs nothing here: the VAE always computes in float32, whatever its weights' dtype
        AutoencoderKL vae = AutoencoderKL.fromConfig(vaeDir.resolve("config.json"));
        if (vae.config().latentChannels() != unetConfig.inChannels()
                && vae.config().latentChannels() + vae.config().latentChannels() + 1 != unetConfig.inChannels()) {
            throw new ConfigException(vaeDir + ": the VAE's latent_channels " + vae.config().latentChannels()
                    + " does not fit the UNet's in_channels " + unetConfig.inChannels());
        }
        WeightLoader.load(vae, weights.get("vae"), "", Set.of());
        Path sched = configDir.resolve("scheduler/scheduler_config.json");
        if (!Files.isRegularFile(sched)) {
            throw new ConfigException(sched + ": scheduler config not found");
        }
        return new SdxlComponents(source, tok, tok2, te, te2, unet, vae, sched,
                mi.bool("force_zeros_for_empty_prompt", true), mi.bool("requires_aesthetics_score", false), owned);
    }

    private Backend backend = Backend.cpu();
    private final AttachedControlNets controlNets = new AttachedControlNets();
    private volatile boolean unloadTextEncoderPages;

    /**
     * After each call's prompt encoding, drop the text encoders' mapped weight pages from resident memory
     * (default off): they run once per call, and at SDXL size their 1.5 GiB would otherwise stay resident
     * beside the UNet's. The next call reads them again from the file or the page cache.
     */
    public void setUnloadTextEncoderPages(boolean on) {
        this.unloadTextEncoderPages = on;
    }

    void afterPromptEncoding() {
        if (unloadTextEncoderPages) {
            if (textEncoder != null) {
                textEncoder.unloadWeightPages();
            }
            textEncoder2.unloadWeightPages();
        }
    }

    public Path folder() {
        return folder;
    }

    /** The first tokenizer, or null in the refiner layout. */
    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTokenizer tokenizer2() {
        return tokenizer2;
    }

    /** The first text encoder, or null in the refiner layout (text_encoder_2 only). */
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

    /**
     * model_index.json's {@code requires_aesthetics_score} (the refiner's true): the img2img and inpaint
     * pipelines' time ids end with the aesthetic score instead of the target size.
     */
    public boolean requiresAestheticsScore() {
        return requiresAestheticsScore;
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
        controlNets.moveTo(target);
        for (IpAdapter a : ipAdapters.adapters()) {
            a.weights().values().forEach(kv -> {
                kv.toKIp().to(target);
                kv.toVIp().to(target);
            });
        }
        backend = target;
        return this;
    }

    /**
     * Takes ControlNets into these components: moves their weights to the components' backend (and
     * along with any later {@link #to}) and closes them with the components. Returns them as one
     * {@link MultiControlNetModel}, or null for an empty list.
     */
    public synchronized MultiControlNetModel attachControlNets(List<ControlNetModel> nets) {
        return controlNets.attach(nets, backend);
    }

    /** The loaded IP-Adapters (a snapshot; {@link IpAdapters#NONE} when none). */
    public IpAdapters ipAdapters() {
        return ipAdapters;
    }

    /**
     * diffusers' {@code load_ip_adapter}: loads the adapter files (replacing any loaded before, each
     * at scale 1.0) and, if none is loaded yet, the image encoder from {@code imageEncoderDir}
     * ({@code config.json} + {@code model.safetensors}; null for none: then calls must pass
     * {@code ip_adapter_image_embeds}). The feature extractor is the folder's
     * {@code feature_extractor/preprocessor_config.json} or diffusers' default for the encoder's
     * image size. Nothing changes if anything fails. Running calls keep the setting they started with.
     *
     * @throws dev.pagoda.nn.WeightLoadException listing missing, unexpected and mis-shaped keys
     * @throws IpAdapterException                for a file that is no IP-Adapter, or an encoder that does not fit
     */
    public synchronized void loadIpAdapter(List<Path> weightFiles, Path imageEncoderDir) {
        if (weightFiles.isEmpty()) {
            throw new IpAdapterException("load_ip_adapter: no weight file given");
        }
        List<TensorStore> opened = new ArrayList<>();
        try {
            List<IpAdapter> adapters = new ArrayList<>();
            for (Path f : weightFiles) {
                if (!Files.isRegularFile(f)) {
                    throw new IpAdapterException(f + ": no such IP-Adapter weight file");
                }
                TensorStore store = WeightFiles.open(f);
                opened.add(store);
                adapters.add(IpAdapterLoader.load(unet, store));
            }
            ClipVisionModel encoder = ipAdapters.imageEncoder();
            ClipImageProcessor fe = ipAdapters.featureExtractor();
            if (encoder == null && imageEncoderDir != null) {
                Path cfg = imageEncoderDir.resolve("config.json");
                if (!Files.isRegularFile(cfg)) {
                    throw new IpAdapterException(imageEncoderDir + ": no image encoder config.json");
                }
                encoder = ClipVisionModel.fromConfig(cfg);
                TensorStore store = WeightFiles.open(imageEncoderDir, "model", false);
                opened.add(store);
                WeightLoader.load(encoder, store, "", ClipVisionModel.IGNORED_KEYS);
                Path pre = folder.resolve("feature_extractor/preprocessor_config.json");
                fe = Files.isRegularFile(pre) ? ClipImageProcessor.read(pre)
                        : ClipImageProcessor.defaults(encoder.config().imageSize());
            }
            IpAdapters next = IpAdapters.of(adapters, encoder, fe);
            if (backend != Backend.cpu()) {
                for (IpAdapter a : adapters) {
                    a.weights().values().forEach(kv -> {
                        kv.toKIp().to(backend);
                        kv.toVIp().to(backend);
                    });
                }
            }
            stores.addAll(opened);
            ipAdapters = next;
        } catch (RuntimeException e) {
            opened.forEach(TensorStore::close);
            throw e;
        }
    }

    /** diffusers' {@code set_ip_adapter_scale}: see {@link dev.pagoda.diffusion.ipadapter.IpAdapterScales}. */
    public synchronized void setIpAdapterScale(List<?> configs) {
        ipAdapters = ipAdapters.withScales(configs);
    }

    /**
     * diffusers' {@code unload_ip_adapter}: drops the adapters, the image encoder and the feature
     * extractor. Their mapped files stay open until {@link #close()} (a running call may still read them).
     */
    public synchronized void unloadIpAdapter() {
        ipAdapters = IpAdapters.NONE;
    }

    /** The LoRA adapters of these modules (shared by every pipeline made from them with {@code fromPipe}). */
    public LoraAdapters lora() {
        return lora;
    }

    /** The share a pipeline built on these components holds until its {@code close()}. */
    Shares.Share share() {
        return shares.take(folder.toString());
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
     * are refused): weights are never unmapped under a running kernel. Idempotent. Pipelines close
     * their components themselves when the last of them that share them is closed; calling this
     * closes them for every pipeline at once.
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
            controlNets.close();
            lora.close();
        }
    }
}
