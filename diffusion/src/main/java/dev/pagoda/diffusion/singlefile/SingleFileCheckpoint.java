package dev.pagoda.diffusion.singlefile;

import dev.pagoda.diffusion.singlefile.CheckpointFamily.Keys;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.nio.file.Path;

/**
 * An original-layout single-file checkpoint ({@code sd_xl_base_1.0.safetensors}, A1111/ComfyUI model
 * files) memory-mapped once, and each of its components seen under diffusers' names as a
 * {@link ConvertedStore} of views, so loading a component into the diffusers module tree copies no
 * weight (except OpenCLIP's small transposed {@code text_projection}). Closing the checkpoint unmaps
 * every component's tensors.
 */
public final class SingleFileCheckpoint implements AutoCloseable {

    private final TensorStore file;
    private final CheckpointFamily family;

    private SingleFileCheckpoint(TensorStore file, CheckpointFamily family) {
        this.file = file;
        this.family = family;
    }

    /**
     * Maps {@code path} and detects its family.
     *
     * @throws CheckpointException when the keys fit no known layout (naming the families tried)
     */
    public static SingleFileCheckpoint open(Path path) {
        TensorStore store = SafetensorsFile.open(path);
        try {
            return new SingleFileCheckpoint(store, CheckpointFamily.detect(store));
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Wraps an open store (tests); the checkpoint owns and closes it. */
    public static SingleFileCheckpoint of(TensorStore store) {
        return new SingleFileCheckpoint(store, CheckpointFamily.detect(store));
    }

    public CheckpointFamily family() {
        return family;
    }

    /** The mapped file; closing it unmaps every component's tensors. */
    public TensorStore store() {
        return file;
    }

    public String describe() {
        return file.describe();
    }

    /** The UNet ({@code model.diffusion_model.*}); block numbering follows {@code config}. */
    public ConvertedStore unet(UNetConfig config) {
        LdmUnetKeys keys = new LdmUnetKeys(config);
        ConvertedStore.Builder b = new ConvertedStore.Builder(file, "unet");
        for (String key : file.names()) {
            if (key.startsWith(Keys.UNET)) {
                b.put(keys.toDiffusers(key.substring(Keys.UNET.length())), key);
            }
        }
        return b.build();
    }

    /** The autoencoder ({@code first_stage_model.*}) with {@code upBlocks} decoder levels. */
    public ConvertedStore vae(int upBlocks) {
        LdmVaeKeys keys = new LdmVaeKeys(upBlocks);
        ConvertedStore.Builder b = new ConvertedStore.Builder(file, "vae");
        for (String key : file.names()) {
            if (key.startsWith(Keys.VAE)) {
                String k = key.substring(Keys.VAE.length());
                b.put(keys.toDiffusers(k), key, keys.view(k, file.info(key)));
            }
        }
        return b.build();
    }

    /** The OpenAI CLIP ViT-L text encoder (SDXL's {@code text_encoder}, SD 1.x's only one), or null. */
    public ConvertedStore clipL() {
        String prefix = family == CheckpointFamily.SD_1 ? Keys.LDM_CLIP_L
                : family == CheckpointFamily.SDXL_BASE || family == CheckpointFamily.SDXL_INPAINTING ? Keys.SGM_CLIP_L
                : null;
        if (prefix == null) {
            return null;
        }
        ConvertedStore.Builder b = new ConvertedStore.Builder(file, "text_encoder");
        for (String key : file.names()) {
            if (key.startsWith(prefix)) {
                b.put(key.substring(prefix.length()), key);
            }
        }
        return b.build();
    }

    /** The OpenCLIP text encoder (SDXL's {@code text_encoder_2}, the refiner's and SD 2.x's only one), or null. */
    public ConvertedStore openClip() {
        String prefix = switch (family) {
            case SDXL_BASE, SDXL_INPAINTING -> Keys.SGM_OPEN_CLIP_1;
            case SDXL_REFINER -> Keys.SGM_OPEN_CLIP_0;
            case SD_2 -> Keys.LDM_OPEN_CLIP;
            case SD_1 -> null;
        };
        if (prefix == null) {
            return null;
        }
        ConvertedStore.Builder b = new ConvertedStore.Builder(file, family == CheckpointFamily.SD_2 ? "text_encoder"
                : "text_encoder_2");
        OpenClipKeys.convert(file, prefix, b);
        return b.build();
    }

    /** Unmaps the file: every component's tensors become invalid. Idempotent. */
    @Override
    public void close() {
        file.close();
    }
}
