package dev.pagoda.diffusion.ipadapter;

import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.ipadapter.IpAdapterException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * diffusers' {@code set_ip_adapter_scale}: one config per adapter (or one for all), each a number
 * (every cross-attention layer) or a per-block dict {@code {"down": {"block_2": [0.0, 1.0]}, "up":
 * {"block_0": [0.0, 1.0, 0.0]}, "mid": 0.5}} expanded as {@code _maybe_expand_lora_scales} does,
 * with 0 for the blocks a dict leaves out. A layer list entry is one scale per transformer
 * ({@code attentions.i}) of the block.
 */
public final class IpAdapterScales {

    private IpAdapterScales() {
    }

    /**
     * The new per-adapter scales.
     *
     * @param layers   the UNet's cross-attention modules by name (processor order)
     * @param previous the current scales per adapter (a dict leaves layers it does not name as they are)
     * @param configs  one config per adapter, or one for every adapter
     */
    public static List<Map<Attention, Float>> apply(Map<String, Attention> layers, List<Map<Attention, Float>> previous,
            List<?> configs) {
        int n = previous.size();
        if (configs.isEmpty() || (configs.size() != 1 && configs.size() != n)) {
            throw new IpAdapterException("set_ip_adapter_scale: " + configs.size() + " scale configs for " + n
                    + " IP-Adapter(s)");
        }
        List<Map<String, Float>> expanded = configs.stream().map(c -> expand(layers, c)).toList();
        List<Map<Attention, Float>> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Float> cfg = expanded.get(configs.size() == 1 ? 0 : i);
            Map<Attention, Float> s = new LinkedHashMap<>(previous.get(i));
            layers.forEach((name, a) -> {
                for (Map.Entry<String, Float> e : cfg.entrySet()) {
                    if (e.getKey().isEmpty() || name.startsWith(e.getKey())) {
                        s.put(a, e.getValue());
                    }
                }
            });
            out.add(s);
        }
        return out;
    }

    /** A number becomes {"" -> value} (every layer); a dict becomes layer-prefix -> value. */
    static Map<String, Float> expand(Map<String, Attention> layers, Object config) {
        Map<String, Float> out = new LinkedHashMap<>();
        if (config instanceof Number v) {
            out.put("", finite(v));
            return out;
        }
        if (!(config instanceof Map<?, ?> m)) {
            throw new IpAdapterException("set_ip_adapter_scale: a scale config must be a number or a dict, got "
                    + config);
        }
        for (Object k : m.keySet()) {
            if (!List.of("down", "mid", "up").contains(k)) {
                throw new IpAdapterException("set_ip_adapter_scale: unknown key \"" + k + "\" (expected down, mid, up)");
            }
        }
        Object mid = m.containsKey("mid") ? m.get("mid") : 0f;
        if (mid instanceof List<?> l) {
            if (l.size() != 1) {
                throw new IpAdapterException("set_ip_adapter_scale: expected 1 scale for mid, got " + l.size());
            }
            mid = l.get(0);
        }
        if (!(mid instanceof Number)) {
            throw new IpAdapterException("set_ip_adapter_scale: mid must be a number, got " + mid);
        }
        for (String updown : List.of("up", "down")) {
            String prefix = updown + "_blocks.";
            Map<Integer, Integer> blocks = transformersPerBlock(layers, prefix);
            Object v = m.containsKey(updown) ? m.get(updown) : 0f;
            for (Map.Entry<Integer, Integer> b : blocks.entrySet()) {
                Object bv = v instanceof Map<?, ?> bm ? (bm.containsKey("block_" + b.getKey())
                        ? bm.get("block_" + b.getKey()) : 0f) : v;
                int count = b.getValue();
                List<?> per;
                if (bv instanceof List<?> l) {
                    per = l.size() == 1 ? java.util.Collections.nCopies(count, l.get(0)) : l;
                } else {
                    per = java.util.Collections.nCopies(count, bv);
                }
                if (per.size() != count) {
                    throw new IpAdapterException("set_ip_adapter_scale: expected " + count + " scales for " + updown
                            + ".block_" + b.getKey() + ", got " + per.size());
                }
                for (int t = 0; t < count; t++) {
                    if (!(per.get(t) instanceof Number x)) {
                        throw new IpAdapterException("set_ip_adapter_scale: " + updown + ".block_" + b.getKey()
                                + " scales must be numbers, got " + per.get(t));
                    }
                    out.put(prefix + b.getKey() + ".attentions." + t + ".", finite(x));
                }
            }
        }
        out.put("mid_block.attentions.0.", finite((Number) mid));
        return out;
    }

    /** Block index -> number of {@code attentions.i} stacks, for the blocks that have them. */
    private static Map<Integer, Integer> transformersPerBlock(Map<String, Attention> layers, String prefix) {
        Map<Integer, Integer> out = new java.util.TreeMap<>();
        for (String name : layers.keySet()) {
            if (name.startsWith(prefix)) {
                String[] parts = name.substring(prefix.length()).split("\\.");
                int block = Integer.parseInt(parts[0]);
                int stack = Integer.parseInt(parts[2]);
                out.merge(block, stack + 1, Math::max);
            }
        }
        return out;
    }

    private static float finite(Number n) {
        float f = n.floatValue();
        if (!Float.isFinite(f)) {
            throw new IpAdapterException("set_ip_adapter_scale: scale " + n + " is not finite");
        }
        return f;
    }
}
