package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.WeightLoadException;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * diffusers' {@code load_ip_adapter} for one weight file: splits the keys into {@code image_proj.*}
 * and {@code ip_adapter.*}, builds the image projection the keys describe and renames the original
 * IP-Adapter keys to diffusers' module names ({@code _convert_ip_adapter_image_proj_to_diffusers};
 * keys already in diffusers' names are taken as they are), and binds {@code ip_adapter.<id>.to_k_ip}
 * / {@code to_v_ip} to the UNet's cross-attention modules in diffusers' processor order (down, up,
 * mid blocks; id 1, 3, 5, … as {@code _convert_ip_adapter_attn_to_diffusers} counts them).
 */
public final class IpAdapterLoader {

    private static final Pattern PLUS_KEY = Pattern.compile("layers\\.(\\d+)\\.(0\\.norm1|0\\.norm2|0\\.to_q|0\\.to_kv"
            + "|0\\.to_out|1\\.0|1\\.1|1\\.3)\\.(weight|bias)");

    private IpAdapterLoader() {
    }

    /** Loads the adapter in {@code store} for {@code unet}; the tensors stay views into the store. */
    public static IpAdapter load(UNet2DConditionModel unet, TensorStore store) {
        Map<String, Tensor> proj = new LinkedHashMap<>();
        Map<String, Tensor> attn = new LinkedHashMap<>();
        List<String> other = new ArrayList<>();
        for (String k : store.names()) {
            if (k.startsWith("image_proj.")) {
                proj.put(k.substring("image_proj.".length()), store.tensor(k));
            } else if (k.startsWith("ip_adapter.")) {
                attn.put(k.substring("ip_adapter.".length()), store.tensor(k));
            } else {
                other.add(k);
            }
        }
        if (proj.isEmpty() || attn.isEmpty()) {
            throw new IpAdapterException(store.describe() + ": not an IP-Adapter file: required keys image_proj.* and"
                    + " ip_adapter.* (found " + (proj.isEmpty() ? "no image_proj.*" : "no ip_adapter.*") + ")");
        }
        if (!other.isEmpty()) {
            throw new WeightLoadException(store.describe(), List.of(), other, List.of());
        }
        ImageProjector projection = projection(store.describe(), proj);
        if (projection.crossAttentionDim() != unet.config().crossAttentionDim()) {
            throw new IpAdapterException(store.describe() + ": the image projection makes tokens of "
                    + projection.crossAttentionDim() + " channels, the UNet's cross_attention_dim is "
                    + unet.config().crossAttentionDim());
        }
        Map<String, Attention> cross = crossAttention(unet);
        Map<Attention, IpAdapterPlan.KeyValue> weights = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Set<String> used = new HashSet<>();
        int id = 1;
        for (Map.Entry<String, Attention> e : cross.entrySet()) {
            int[] want = e.getValue().namedParameters().get("to_k.weight").shape();
            Linear k = bind(store.describe(), attn, id + ".to_k_ip.weight", want, used, missing, mismatched);
            Linear v = bind(store.describe(), attn, id + ".to_v_ip.weight", want, used, missing, mismatched);
            if (k != null && v != null) {
                weights.put(e.getValue(), new IpAdapterPlan.KeyValue(k, v));
            }
            id += 2;
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : attn.keySet()) {
            if (!used.contains(k)) {
                unexpected.add("ip_adapter." + k);
            }
        }
        if (!missing.isEmpty() || !mismatched.isEmpty() || !unexpected.isEmpty()) {
            throw new WeightLoadException(store.describe(), missing, unexpected, mismatched);
        }
        return new IpAdapter(store.describe(), projection, cross, weights);
    }

    private static Linear bind(String src, Map<String, Tensor> attn, String key, int[] want, Set<String> used,
            List<String> missing, List<String> mismatched) {
        Tensor t = attn.get(key);
        if (t == null) {
            missing.add("ip_adapter." + key);
            return null;
        }
        used.add(key);
        if (!Arrays.equals(t.shape(), want) || !t.dtype().isFloating()) {
            mismatched.add("ip_adapter." + key + " (file " + t.dtype() + " " + Shapes.str(t.shape()) + ", UNet needs "
                    + Shapes.str(want) + ")");
            return null;
        }
        Linear l = new Linear(want[1], want[0], false);
        l.weight().set(t);
        return l;
    }

    /**
     * The UNet's cross-attention modules by name in the order of diffusers' {@code attn_processors}:
     * its children are registered down_blocks, up_blocks, mid_block, whatever order this tree uses.
     */
    public static Map<String, Attention> crossAttention(UNet2DConditionModel unet) {
        Map<String, Attention> out = new LinkedHashMap<>();
        for (String group : List.of("down_blocks.", "up_blocks.", "mid_block.")) {
            unet.namedModules().forEach((name, m) -> {
                if (name.startsWith(group) && m instanceof Attention a && a.isCrossAttention()) {
                    out.put(name, a);
                }
            });
        }
        return out;
    }

    /** Builds the projection the {@code image_proj.*} keys describe and loads it strictly. */
    static ImageProjector projection(String src, Map<String, Tensor> sd) {
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        ImageProjector p;
        if (sd.containsKey("proj.weight") || sd.containsKey("image_embeds.weight")) {
            Tensor w = sd.containsKey("proj.weight") ? sd.get("proj.weight") : sd.get("image_embeds.weight");
            requireRank(src, "image_proj.proj.weight", w, 2);
            if (w.dim(0) % 4 != 0) {
                throw new IpAdapterException(src + ": image_proj.proj.weight has " + w.dim(0)
                        + " rows, expected 4 tokens x cross_attention_dim");
            }
            p = new ImageProjection(w.dim(1), w.dim(0) / 4, 4);
            sd.forEach((k, v) -> renamed.put(k.startsWith("proj.") ? "image_embeds." + k.substring(5) : k, v));
        } else if (sd.containsKey("latents")) {
            Tensor latents = sd.get("latents");
            requireRank(src, "image_proj.latents", latents, 3);
            Set<Integer> layers = new TreeSet<>();
            for (String k : sd.keySet()) {
                Matcher m = PLUS_KEY.matcher(k);
                String n = m.matches() ? plusName(m) : k;
                Matcher layer = Pattern.compile("layers\\.(\\d+)\\..*").matcher(n);
                if (layer.matches()) {
                    layers.add(Integer.parseInt(layer.group(1)));
                }
                if (n.endsWith("attn.to_kv.weight")) {
                    Tensor[] kv = sd.get(k).chunk(2, 0);
                    renamed.put(n.replace("to_kv", "to_k"), kv[0]);
                    renamed.put(n.replace("to_kv", "to_v"), kv[1]);
                } else {
                    renamed.put(n, sd.get(k));
                }
            }
            Tensor q = renamed.get("layers.0.attn.to_q.weight");
            Tensor in = renamed.get("proj_in.weight");
            Tensor out = renamed.get("proj_out.weight");
            if (q == null || in == null || out == null) {
                throw new WeightLoadException(src, missingOf(renamed, "layers.0.attn.to_q.weight", "proj_in.weight",
                        "proj_out.weight"), List.of(), List.of());
            }
            if (q.dim(0) % 64 != 0) {
                throw new IpAdapterException(src + ": image_proj layers.0 to_q has " + q.dim(0)
                        + " rows, expected heads x 64");
            }
            Tensor ff = renamed.get("layers.0.ff.1.net.0.proj.weight");
            int ratio = ff == null ? 4 : ff.dim(0) / latents.dim(2);
            p = new IpAdapterPlusImageProjection(in.dim(1), out.dim(0), latents.dim(2), layers.size(), 64,
                    q.dim(0) / 64, latents.dim(1), ratio);
        } else if (sd.containsKey("proj.3.weight") || sd.containsKey("norm.weight")
                || sd.containsKey("perceiver_resampler.proj_in.weight")) {
            throw new IpAdapterException(src + ": IP-Adapter full-face / FaceID image projections are not supported"
                    + " (supported: IP-Adapter and IP-Adapter plus)");
        } else {
            throw new IpAdapterException(src + ": unrecognised image_proj layout (expected image_proj.proj.weight for"
                    + " IP-Adapter or image_proj.latents for IP-Adapter plus)");
        }
        WeightLoader.load((Module) p, new MapTensorStore(src + " (image_proj)", renamed), "");
        return p;
    }

    /** Original Resampler key part to diffusers' ({@code layers.i.0.to_q} to {@code layers.i.attn.to_q}, …). */
    private static String plusName(Matcher m) {
        String i = m.group(1);
        String kind = m.group(3);
        return "layers." + i + "." + switch (m.group(2)) {
            case "0.norm1" -> "ln0";
            case "0.norm2" -> "ln1";
            case "0.to_q" -> "attn.to_q";
            case "0.to_kv" -> "attn.to_kv";
            case "0.to_out" -> "attn.to_out.0";
            case "1.0" -> "ff.0";
            case "1.1" -> "ff.1.net.0.proj";
            default -> "ff.1.net.2";
        } + "." + kind;
    }

    private static List<String> missingOf(Map<String, Tensor> m, String... keys) {
        return Arrays.stream(keys).filter(k -> !m.containsKey(k)).map(k -> "image_proj." + k).toList();
    }

    private static void requireRank(String src, String key, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw new WeightLoadException(src, List.of(), List.of(), List.of(key + " (rank " + t.rank() + ", expected "
                    + rank + ")"));
        }
    }
}
