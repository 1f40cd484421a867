package dev.pagoda.diffusion.singlefile;

import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.ArrayList;
import java.util.List;

/**
 * The model families whose original single-file layout Pagoda recognises, told apart by which text
 * encoders the file carries and where (the same marker keys diffusers' {@code infer_diffusers_model_type}
 * reads, chosen so that they do not depend on the number of layers), and by the UNet's input
 * channels (9 for inpainting models).
 */
public enum CheckpointFamily {
    SDXL_BASE("SDXL base", Keys.SGM_CLIP_L + ", " + Keys.SGM_OPEN_CLIP_1),
    SDXL_INPAINTING("SDXL inpainting (9-channel UNet)", Keys.SGM_CLIP_L + ", " + Keys.SGM_OPEN_CLIP_1
            + ", 9 input channels"),
    SDXL_REFINER("SDXL refiner", Keys.SGM_OPEN_CLIP_0 + " without CLIP-L"),
    SD_1("SD 1.x", Keys.LDM_CLIP_L),
    SD_2("SD 2.x", Keys.LDM_OPEN_CLIP);

    /** The keys (and key prefixes) of the original layouts. */
    static final class Keys {
        static final String UNET = "model.diffusion_model.";
        static final String UNET_CONV_IN = UNET + "input_blocks.0.0.weight";
        static final String VAE = "first_stage_model.";
        static final String SGM_CLIP_L = "conditioner.embedders.0.transformer.";
        static final String SGM_OPEN_CLIP_1 = "conditioner.embedders.1.model.";
        static final String SGM_OPEN_CLIP_0 = "conditioner.embedders.0.model.";
        static final String LDM_CLIP_L = "cond_stage_model.transformer.";
        static final String LDM_OPEN_CLIP = "cond_stage_model.model.";

        private Keys() {
        }
    }

    private final String title;
    private final String markers;

    CheckpointFamily(String title, String markers) {
        this.title = title;
        this.markers = markers;
    }

    public String title() {
        return title;
    }

    /**
     * The family of {@code checkpoint}.
     *
     * @throws CheckpointException naming the file, every family tried with the keys it looks for, and
     *         the file's first keys, when the file fits none
     */
    public static CheckpointFamily detect(TensorStore checkpoint) {
        boolean unet = checkpoint.contains(Keys.UNET_CONV_IN);
        boolean vae = hasPrefix(checkpoint, Keys.VAE);
        CheckpointFamily found = null;
        if (unet && vae) {
            if (hasPrefix(checkpoint, Keys.SGM_CLIP_L) && hasPrefix(checkpoint, Keys.SGM_OPEN_CLIP_1)) {
                found = checkpoint.info(Keys.UNET_CONV_IN).shape()[1] == 9 ? SDXL_INPAINTING : SDXL_BASE;
            } else if (hasPrefix(checkpoint, Keys.SGM_OPEN_CLIP_0) && !hasPrefix(checkpoint, Keys.SGM_CLIP_L)) {
                found = SDXL_REFINER;
            } else if (hasPrefix(checkpoint, Keys.LDM_CLIP_L)) {
                found = SD_1;
            } else if (hasPrefix(checkpoint, Keys.LDM_OPEN_CLIP)) {
                found = SD_2;
            }
        }
        if (found != null) {
            return found;
        }
        List<String> tried = new ArrayList<>();
        for (CheckpointFamily f : values()) {
            tried.add(f.title + " (" + Keys.UNET + "*, " + Keys.VAE + "*, " + f.markers + ")");
        }
        List<String> first = checkpoint.names().stream().limit(5).toList();
        String hint = checkpoint.contains("conv_in.weight") || checkpoint.contains("text_model.embeddings.token_embedding.weight")
                ? "; it looks like one diffusers component (pass the pipeline folder instead)" : "";
        throw new CheckpointException(checkpoint.describe() + ": the keys fit no known single-file checkpoint layout"
                + hint + ". Tried: " + String.join("; ", tried) + ". The file has " + checkpoint.names().size()
                + " tensors, starting " + first);
    }

    private static boolean hasPrefix(TensorStore store, String prefix) {
        for (String n : store.names()) {
            if (n.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
