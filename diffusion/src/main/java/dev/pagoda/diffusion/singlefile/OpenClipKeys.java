package dev.pagoda.diffusion.singlefile;

import dev.pagoda.tensor.safetensors.TensorInfo;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.Set;

/**
 * OpenCLIP's text tower ({@code positional_embedding}, {@code transformer.resblocks.N.attn.in_proj_weight},
 * {@code ln_final}, {@code text_projection}, ...) under transformers' {@code CLIPTextModelWithProjection}
 * names, as diffusers' {@code convert_open_clip_checkpoint}. The fused {@code in_proj} of each layer is
 * split into q, k and v as three row-range views of the same mapped tensor. {@code text_projection}
 * is stored as {@code x @ P} (input-major), a linear layer wants {@code P}ᵀ: that one small matrix is
 * copied transposed.
 */
final class OpenClipKeys {

    /** Tensors of the OpenCLIP module that transformers' CLIP text model has no slot for. */
    static final Set<String> UNUSED = Set.of("logit_scale", "attn_mask");

    private static final String[][] LAYER = {
        {"ln_1.", "layer_norm1."}, {"ln_2.", "layer_norm2."}, {"mlp.c_fc.", "mlp.fc1."}, {"mlp.c_proj.", "mlp.fc2."},
        {"attn.out_proj.", "self_attn.out_proj."},
    };

    private OpenClipKeys() {
    }

    /** Adds every tensor under {@code prefix} to {@code out}, except the {@link #UNUSED} ones. */
    static void convert(TensorStore checkpoint, String prefix, ConvertedStore.Builder out) {
        for (String key : checkpoint.names()) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            String k = key.substring(prefix.length());
            if (UNUSED.contains(k)) {
                continue;
            }
            switch (k) {
                case "positional_embedding" -> out.put("text_model.embeddings.position_embedding.weight", key);
                case "token_embedding.weight" -> out.put("text_model.embeddings.token_embedding.weight", key);
                case "ln_final.weight" -> out.put("text_model.final_layer_norm.weight", key);
                case "ln_final.bias" -> out.put("text_model.final_layer_norm.bias", key);
                case "text_projection" -> out.put("text_projection.weight", key, new ConvertedStore.Transpose());
                default -> layer(checkpoint, key, k, out);
            }
        }
    }

    private static void layer(TensorStore checkpoint, String key, String k, ConvertedStore.Builder out) {
        String resblocks = "transformer.resblocks.";
        if (!k.startsWith(resblocks)) {
            out.put(k, key);
            return;
        }
        int dot = k.indexOf('.', resblocks.length());
        if (dot < 0) {
            out.put(k, key);
            return;
        }
        String layer = "text_model.encoder.layers." + k.substring(resblocks.length(), dot) + ".";
        String rest = k.substring(dot + 1);
        if (rest.equals("attn.in_proj_weight") || rest.equals("attn.in_proj_bias")) {
            TensorInfo info = checkpoint.info(key);
            int rows = info.shape()[0];
            if (rows % 3 != 0) {
                throw new CheckpointException(checkpoint.describe() + ": " + key + " has " + rows
                        + " rows; a fused q/k/v projection has three equal parts");
            }
            String suffix = rest.endsWith("weight") ? "weight" : "bias";
            String[] parts = {"q_proj", "k_proj", "v_proj"};
            for (int p = 0; p < 3; p++) {
                out.put(layer + "self_attn." + parts[p] + "." + suffix, key,
                        new ConvertedStore.Rows(p * rows / 3, rows / 3));
            }
            return;
        }
        for (String[] r : LAYER) {
            if (rest.startsWith(r[0])) {
                out.put(layer + r[1] + rest.substring(r[0].length()), key);
                return;
            }
        }
        out.put(k, key);
    }
}
