package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.pixart.PixArtTransformer2DModel;
import dev.pagoda.nn.t5.T5Config;
import dev.pagoda.nn.t5.T5EncoderModel;
import dev.pagoda.nn.t5.T5Tokenizer;
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
import java.util.function.Function;

/**
 * The loaded parts of a PixArt-Σ pipeline folder ({@code model_index.json}; {@code transformer/},
 * {@code text_encoder/}, {@code tokenizer/}, {@code vae/}, {@code scheduler/}). Weights are
 * memory-mapped in their stored dtype. The T5 encoder (T5-XXL: 4.7 B parameters, 9.5 GB in BF16) is
 * the largest part and runs once per prompt: {@link #unloadTextEncoder()} unmaps it, and with
 * {@link #setOffloadTextEncoder} on every call unmaps it right after encoding its prompts (diffusers'
 * "encode_prompt, then free the text encoder"); a later call maps it again. Pipelines made with
 * {@code fromPipe} share one instance.
 */
public final class PixArtComponents implements AutoCloseable {

    private static final Map<String, Set<String>> EXPECTED = Map.of(
            "transformer", Set.of("PixArtTransformer2DModel"),
            "vae", Set.of("AutoencoderKL"),
            "text_encoder", Set.of("T5EncoderModel"),
            "tokenizer", Set.of("T5Tokenizer", "T5TokenizerFast"));
    static final Set<String> PIPELINES = Set.of("PixArtSigmaPipeline", "PixArtSigmaPAGPipeline");

    private final Path folder;
    private final T5Tokenizer tokenizer;
    private final PixArtTransformer2DModel transformer;
    private final AutoencoderKL vae;
    private final Path schedulerConfig;
    private final List<TensorStore> stores;
    private final Object encoderLock = new Object();
    private T5EncoderModel textEncoder;
    private volatile boolean offloadTextEncoder;
    private Backend backend = Backend.cpu();
    private int running;
    private boolean closed;
    private final Shares shares = new Shares(this::close);

    private PixArtComponents(Path folder, T5Tokenizer tokenizer, T5EncoderModel textEncoder,
            PixArtTransformer2DModel transformer, AutoencoderKL vae, Path schedulerConfig, List<TensorStore> stores) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.transformer = transformer;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.stores = stores;
    }

    /** Whether {@code dir}'s {@code model_index.json} names a PixArt-Σ pipeline. */
    public static boolean isPixArtFolder(Path dir) {
        Path index = dir.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            return false;
        }
        Object cls = JsonConfig.read(index).raw("_class_name");
        return cls instanceof String s && s.startsWith("PixArt");
    }

    /**
     * Loads every part of the PixArt-Σ folder {@code dir}.
     *
     * @param preferFp16 use {@code *.fp16.safetensors} variants of the transformer and VAE where they exist
     * @throws ConfigException for a folder that is not a PixArt-Σ pipeline, a missing part, or a
     *                         transformer whose {@code caption_channels} differs from the encoder's {@code d_model}
     */
    public static PixArtComponents load(Path dir, boolean preferFp16) {
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
        for (Map.Entry<String, Set<String>> e : EXPECTED.entrySet()) {
            Object v = mi.raw(e.getKey());
            if (!(v instanceof List<?> l) || l.size() != 2 || !e.getValue().contains(l.get(1))) {
                throw new ConfigException(index + ": component \"" + e.getKey() + "\" must be one of " + e.getValue()
                        + ", found " + v);
            }
        }
        PixArtTransformer2DModel transformer = PixArtTransformer2DModel.fromConfig(dir.resolve("transformer/config.json"));
        T5Config t5 = T5Config.from(JsonConfig.read(dir.resolve("text_encoder/config.json")));
        int caption = transformer.config().captionChannels();
        if (caption != t5.dModel()) {
            throw new ConfigException(dir.resolve("transformer/config.json") + ": caption_channels " + caption
                    + " does not match the text encoder's d_model " + t5.dModel() + " ("
                    + dir.resolve("text_encoder/config.json") + ")");
        }
        Path sched = dir.resolve("scheduler/scheduler_config.json");
        if (!Files.isRegularFile(sched)) {
            throw new ConfigException(sched + ": scheduler config not found");
        }
        List<TensorStore> stores = new ArrayList<>();
        T5EncoderModel te = null;
        try {
            T5Tokenizer tok = T5Tokenizer.fromPretrained(dir.resolve("tokenizer"));
            TensorStore ts = WeightFiles.open(dir.resolve("transformer"), "diffusion_pytorch_model", preferFp16);
            stores.add(ts);
            WeightLoader.load(transformer, ts, "");
            AutoencoderKL vae = AutoencoderKL.fromConfig(dir.resolve("vae/config.json"));
            TensorStore vs = WeightFiles.open(dir.resolve("vae"), "diffusion_pytorch_model", preferFp16);
            stores.add(vs);
            WeightLoader.load(vae, vs, "");
            te = T5EncoderModel.fromPretrained(dir.resolve("text_encoder"));
            return new PixArtComponents(dir, tok, te, transformer, vae, sched, stores);
        } catch (RuntimeException e) {
            stores.forEach(TensorStore::close);
            if (te != null) {
                te.close();
            }
            throw e;
        }
    }

    public Path folder() {
        return folder;
    }

    public T5Tokenizer tokenizer() {
        return tokenizer;
    }

    public PixArtTransformer2DModel transformer() {
        return transformer;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public Path schedulerConfig() {
        return schedulerConfig;
    }

    /** The backend the transformer and the VAE run on (the T5 encoder stays on the CPU). */
    public Backend backend() {
        return backend;
    }

    /**
     * Moves the transformer and VAE weights to {@code target} once, after checking they fit its memory.
     *
     * @throws DeviceMemoryException when the weights exceed the device's memory
     */
    public PixArtComponents to(Backend target) {
        if (target == backend) {
            return this;
        }
        long bytes = transformer.parameterBytes() + vae.parameterBytes();
        if (bytes > target.deviceMemoryBytes()) {
            throw new DeviceMemoryException(String.format("%s: the transformer and VAE weights of %s need %.1f MiB, "
                    + "but the device has %.1f MiB", target, folder, bytes / 1048576.0,
                    target.deviceMemoryBytes() / 1048576.0));
        }
        transformer.to(target);
        vae.to(target);
        backend = target;
        return this;
    }

    /** Unmap the T5 encoder after each call's prompt encoding (default off). */
    public void setOffloadTextEncoder(boolean on) {
        this.offloadTextEncoder = on;
    }

    /** Whether the T5 encoder's weights are mapped now. */
    public boolean textEncoderLoaded() {
        synchronized (encoderLock) {
            return textEncoder != null;
        }
    }

    /** Unmaps the T5 encoder now (waiting for an encode in progress); the next encode maps it again. */
    public void unloadTextEncoder() {
        synchronized (encoderLock) {
            if (textEncoder != null) {
                textEncoder.close();
                textEncoder = null;
            }
        }
    }

    /**
     * Runs {@code work} with the T5 encoder mapped (mapping it if it was unloaded); one encode at a
     * time, so unloading never pulls the weights from under a running encode.
     */
    <R> R withTextEncoder(Function<T5EncoderModel, R> work) {
        synchronized (encoderLock) {
            if (textEncoder == null) {
                textEncoder = T5EncoderModel.fromPretrained(folder.resolve("text_encoder"));
            }
            try {
                return work.apply(textEncoder);
            } finally {
                if (offloadTextEncoder) {
                    textEncoder.close();
                    textEncoder = null;
                }
            }
        }
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
    public void close() {
        synchronized (this) {
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
        }
        unloadTextEncoder();
    }
}
