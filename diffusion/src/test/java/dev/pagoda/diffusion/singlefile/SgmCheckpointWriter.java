package dev.pagoda.diffusion.singlefile;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Test-tree converter from a diffusers SDXL folder to one original (Stability SGM) checkpoint file,
 * the direction the library does not need. It follows the tables of diffusers'
 * {@code scripts/convert_diffusers_to_original_sdxl.py} (prefix replacement over every name, 3 UNet
 * levels with 2 layers, 4 VAE levels), written independently of the loader's key maps so that a test
 * comparing the two catches a wrong rule on either side; its output's names, dtypes and shapes are
 * checked against what the Python script writes for the tiny model.
 */
final class SgmCheckpointWriter {

    private SgmCheckpointWriter() {
    }

    static void write(Path diffusersFolder, Path out) {
        List<TensorStore> open = new ArrayList<>();
        try {
            Map<String, Map<String, Tensor>> parts = new LinkedHashMap<>();
            for (String part : List.of("unet", "vae", "text_encoder", "text_encoder_2")) {
                TensorStore s = WeightFiles.open(diffusersFolder.resolve(part),
                        part.startsWith("text_encoder") ? "model" : "diffusion_pytorch_model", false);
                open.add(s);
                Map<String, Tensor> m = new LinkedHashMap<>();
                for (String k : s.names()) {
                    m.put(k, s.tensor(k));
                }
                parts.put(part, m);
            }
            Map<String, Tensor> all = new TreeMap<>();
            convert(parts).forEach((k, v) -> all.put(k, v.materialize()));
            SafetensorsWriter.write(out, all);
        } finally {
            open.forEach(TensorStore::close);
        }
    }

    /** A tensor of the original file: a diffusers tensor, reshaped, transposed, or q/k/v stacked. */
    sealed interface Source {
        int[] shape();

        Tensor materialize();
    }

    record Plain(Tensor t) implements Source {
        public int[] shape() {
            return t.shape();
        }

        public Tensor materialize() {
            return t;
        }
    }

    record Conv1x1(Tensor t) implements Source {
        public int[] shape() {
            return new int[] {t.dim(0), t.dim(1), 1, 1};
        }

        public Tensor materialize() {
            return t.reshape(shape());
        }
    }

    record Transposed(Tensor t) implements Source {
        public int[] shape() {
            return new int[] {t.dim(1), t.dim(0)};
        }

        public Tensor materialize() {
            return t.transpose(0, 1).contiguous();
        }
    }

    record Stacked(Tensor[] parts) implements Source {
        public int[] shape() {
            int[] s = parts[0].shape();
            s[0] = parts[0].dim(0) + parts[1].dim(0) + parts[2].dim(0);
            return s;
        }

        public Tensor materialize() {
            return cat(parts);
        }
    }

    /**
     * The original names of a diffusers SDXL pipeline's tensors, by part ({@code unet}, {@code vae},
     * {@code text_encoder}, {@code text_encoder_2}), as the script names them.
     */
    static Map<String, Source> convert(Map<String, Map<String, Tensor>> parts) {
        Map<String, Source> all = new TreeMap<>();
        parts.get("unet").forEach((k, t) -> all.put("model.diffusion_model." + unetName(k), new Plain(t)));
        parts.get("vae").forEach((k, t) -> {
            String name = vaeName(k);
            boolean conv = name.matches(".*mid\\.attn_1\\.(q|k|v|proj_out)\\.weight") && t.rank() == 2;
            all.put("first_stage_model." + name, conv ? new Conv1x1(t) : new Plain(t));
        });
        parts.get("text_encoder").forEach((k, t) -> all.put("conditioner.embedders.0.transformer." + k, new Plain(t)));
        openClip(parts.get("text_encoder_2"), all);
        return all;
    }

    private static String replaceAll(String name, List<String[]> pairs) {
        for (String[] p : pairs) {
            name = name.replace(p[1], p[0]);
        }
        return name;
    }

    static String unetName(String hf) {
        String[][] whole = {
            {"time_embed.0.weight", "time_embedding.linear_1.weight"}, {"time_embed.0.bias", "time_embedding.linear_1.bias"},
            {"time_embed.2.weight", "time_embedding.linear_2.weight"}, {"time_embed.2.bias", "time_embedding.linear_2.bias"},
            {"input_blocks.0.0.weight", "conv_in.weight"}, {"input_blocks.0.0.bias", "conv_in.bias"},
            {"out.0.weight", "conv_norm_out.weight"}, {"out.0.bias", "conv_norm_out.bias"},
            {"out.2.weight", "conv_out.weight"}, {"out.2.bias", "conv_out.bias"},
            {"label_emb.0.0.weight", "add_embedding.linear_1.weight"}, {"label_emb.0.0.bias", "add_embedding.linear_1.bias"},
            {"label_emb.0.2.weight", "add_embedding.linear_2.weight"}, {"label_emb.0.2.bias", "add_embedding.linear_2.bias"},
        };
        String v = hf;
        for (String[] w : whole) {
            if (hf.equals(w[1])) {
                v = w[0];
            }
        }
        if (v.contains("resnets")) {
            v = replaceAll(v, List.of(new String[][] {{"in_layers.0", "norm1"}, {"in_layers.2", "conv1"},
                {"out_layers.0", "norm2"}, {"out_layers.3", "conv2"}, {"emb_layers.1", "time_emb_proj"},
                {"skip_connection", "conv_shortcut"}}));
        }
        List<String[]> layer = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                layer.add(new String[] {"input_blocks." + (3 * i + j + 1) + ".0.", "down_blocks." + i + ".resnets." + j + "."});
                if (i > 0) {
                    layer.add(new String[] {"input_blocks." + (3 * i + j + 1) + ".1.", "down_blocks." + i + ".attentions." + j + "."});
                }
            }
            for (int j = 0; j < 4; j++) {
                layer.add(new String[] {"output_blocks." + (3 * i + j) + ".0.", "up_blocks." + i + ".resnets." + j + "."});
                if (i < 2) {
                    layer.add(new String[] {"output_blocks." + (3 * i + j) + ".1.", "up_blocks." + i + ".attentions." + j + "."});
                }
            }
            layer.add(new String[] {"input_blocks." + (3 * (i + 1)) + ".0.op.", "down_blocks." + i + ".downsamplers.0.conv."});
            layer.add(new String[] {"output_blocks." + (3 * i + 2) + "." + (i == 0 ? 1 : 2) + ".", "up_blocks." + i + ".upsamplers.0."});
        }
        layer.add(new String[] {"output_blocks.2.2.conv.", "output_blocks.2.1.conv."});
        layer.add(new String[] {"middle_block.1.", "mid_block.attentions.0."});
        for (int j = 0; j < 2; j++) {
            layer.add(new String[] {"middle_block." + (2 * j) + ".", "mid_block.resnets." + j + "."});
        }
        return replaceAll(v, layer);
    }

    static String vaeName(String hf) {
        List<String[]> map = new ArrayList<>(List.of(new String[][] {{"nin_shortcut", "conv_shortcut"},
            {"norm_out", "conv_norm_out"}, {"mid.attn_1.", "mid_block.attentions.0."}}));
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                map.add(new String[] {"encoder.down." + i + ".block." + j + ".", "encoder.down_blocks." + i + ".resnets." + j + "."});
            }
            if (i < 3) {
                map.add(new String[] {"down." + i + ".downsample.", "down_blocks." + i + ".downsamplers.0."});
                map.add(new String[] {"up." + (3 - i) + ".upsample.", "up_blocks." + i + ".upsamplers.0."});
            }
            for (int j = 0; j < 3; j++) {
                map.add(new String[] {"decoder.up." + (3 - i) + ".block." + j + ".", "decoder.up_blocks." + i + ".resnets." + j + "."});
            }
        }
        for (int i = 0; i < 2; i++) {
            map.add(new String[] {"mid.block_" + (i + 1) + ".", "mid_block.resnets." + i + "."});
        }
        String v = replaceAll(hf, map);
        if (hf.contains("attentions")) {
            v = replaceAll(v, List.of(new String[][] {{"norm.", "group_norm."}, {"q.", "to_q."}, {"k.", "to_k."},
                {"v.", "to_v."}, {"proj_out.", "to_out.0."}}));
        }
        return v;
    }

    private static void openClip(Map<String, Tensor> te2, Map<String, Source> out) {
        String[][] relabel = {
            {"transformer.resblocks.", "text_model.encoder.layers."}, {"ln_1", "layer_norm1"}, {"ln_2", "layer_norm2"},
            {".c_fc.", ".fc1."}, {".c_proj.", ".fc2."}, {".attn", ".self_attn"}, {"ln_final.", "text_model.final_layer_norm."},
            {"token_embedding.weight", "text_model.embeddings.token_embedding.weight"},
            {"positional_embedding", "text_model.embeddings.position_embedding.weight"},
        };
        String p = "conditioner.embedders.1.model.";
        Map<String, Tensor[]> qkv = new LinkedHashMap<>();
        for (String k : te2.keySet()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.*\\.self_attn)\\.([qkv])_proj\\.(weight|bias)").matcher(k);
            if (m.matches()) {
                qkv.computeIfAbsent(m.group(1) + "|" + m.group(3), x -> new Tensor[3])["qkv".indexOf(m.group(2))] = te2.get(k);
                continue;
            }
            if (k.equals("text_projection.weight")) {
                out.put(p + "text_projection", new Transposed(te2.get(k)));
                continue;
            }
            out.put(p + relabelOnce(k, relabel), new Plain(te2.get(k)));
        }
        for (Map.Entry<String, Tensor[]> e : qkv.entrySet()) {
            String[] parts = e.getKey().split("\\|");
            String name = p + relabelOnce(parts[0], relabel) + (parts[1].equals("weight") ? ".in_proj_weight" : ".in_proj_bias");
            out.put(name, new Stacked(e.getValue()));
        }
    }

    /** Python's one-pass {@code re.sub} over the alternatives: each match replaced once, left to right. */
    private static String relabelOnce(String k, String[][] relabel) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        outer:
        while (i < k.length()) {
            for (String[] r : relabel) {
                if (k.startsWith(r[1], i)) {
                    sb.append(r[0]);
                    i += r[1].length();
                    continue outer;
                }
            }
            sb.append(k.charAt(i++));
        }
        return sb.toString();
    }

    private static Tensor cat(Tensor[] parts) {
        int rows = 0;
        for (Tensor t : parts) {
            rows += t.dim(0);
        }
        int[] shape = parts[0].shape();
        shape[0] = rows;
        DType dt = parts[0].dtype();
        Tensor out = Tensor.zeros(dt, shape);
        long o = 0;
        for (Tensor t : parts) {
            Tensor c = t.contiguous();
            for (long i = 0; i < c.numel(); i++) {
                out.storage().setFloat(dt, o++, c.storage().getFloat(dt, c.offset() + i));
            }
        }
        return out;
    }
}
