package dev.pagoda.diffusion.lora;

import dev.pagoda.diffusion.singlefile.CheckpointException;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The low-rank pairs of a LoRA file, in the two layouts people have:
 * <ul>
 * <li>kohya / A1111: {@code lora_unet_<module path, dots as underscores>.lora_down.weight},
 * {@code .lora_up.weight} and an optional scalar {@code .alpha}; {@code lora_te1_} / {@code lora_te_}
 * is the first text encoder, {@code lora_te2_} the second. UNet paths are diffusers' or the original
 * UNet's ({@code input_blocks_4_1_...}, as kohya's SDXL trainer writes them).</li>
 * <li>diffusers / PEFT: {@code unet.<module path>.lora_A.weight} and {@code .lora_B.weight} (or the
 * older {@code .lora.down.weight} / {@code .lora.up.weight}), {@code text_encoder.} and
 * {@code text_encoder_2.} for the text encoders; alpha from an {@code .alpha} key when present, else
 * equal to the rank (scale 1), as diffusers does for files without one.</li>
 * </ul>
 */
final class LoraFile {

    /** One adapted layer: which component, its module path as the file spells it, the pair, alpha or null. */
    record Pair(String component, String target, boolean underscored, String key, Tensor down, Tensor up, Float alpha) {
    }

    private static final String[][] KOHYA = {
        {"lora_unet_", "unet"}, {"lora_te1_", "text_encoder"}, {"lora_te2_", "text_encoder_2"}, {"lora_te_", "text_encoder"},
    };
    private static final String[][] PEFT_PREFIX = {
        {"unet.", "unet"}, {"text_encoder_2.", "text_encoder_2"}, {"text_encoder.", "text_encoder"},
    };
    private static final String[][] SUFFIX = {
        {".lora_down.weight", "down"}, {".lora_up.weight", "up"}, {".lora_A.weight", "down"}, {".lora_B.weight", "up"},
        {".lora.down.weight", "down"}, {".lora.up.weight", "up"}, {".alpha", "alpha"},
    };

    private LoraFile() {
    }

    /**
     * @throws CheckpointException naming the file and the keys that are not LoRA pairs, or halves without
     *         their other half
     */
    static List<Pair> read(TensorStore file) {
        Map<String, Map<String, String>> groups = new LinkedHashMap<>();
        List<String> foreign = new ArrayList<>();
        for (String key : file.names()) {
            String part = null;
            String stem = null;
            for (String[] s : SUFFIX) {
                if (key.endsWith(s[0])) {
                    part = s[1];
                    stem = key.substring(0, key.length() - s[0].length());
                    break;
                }
            }
            if (part == null || component(stem) == null) {
                foreign.add(key);
                continue;
            }
            groups.computeIfAbsent(stem, k -> new LinkedHashMap<>()).put(part, key);
        }
        if (!foreign.isEmpty()) {
            throw new CheckpointException(file.describe() + ": not a LoRA file of a known layout (kohya lora_unet_/"
                    + "lora_te1_/lora_te2_ with lora_down/lora_up/alpha, or diffusers/PEFT unet./text_encoder./"
                    + "text_encoder_2. with lora_A/lora_B); unsupported keys: " + first(foreign));
        }
        List<Pair> out = new ArrayList<>();
        List<String> incomplete = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> g : groups.entrySet()) {
            Map<String, String> parts = g.getValue();
            if (!parts.containsKey("down") || !parts.containsKey("up")) {
                incomplete.add(g.getKey() + " (has " + new TreeSet<>(parts.keySet()) + ")");
                continue;
            }
            String[] c = component(g.getKey());
            Float alpha = null;
            if (parts.containsKey("alpha")) {
                Tensor a = file.tensor(parts.get("alpha"));
                if (a.numel() != 1) {
                    throw new CheckpointException(file.describe() + ": " + parts.get("alpha") + " must be one number");
                }
                alpha = a.toFloatArray()[0];
            }
            out.add(new Pair(c[1], g.getKey().substring(c[0].length()), c[0].startsWith("lora_"), parts.get("down"),
                    file.tensor(parts.get("down")), file.tensor(parts.get("up")), alpha));
        }
        if (!incomplete.isEmpty()) {
            throw new CheckpointException(file.describe() + ": LoRA pairs without both halves: " + first(incomplete));
        }
        if (out.isEmpty()) {
            throw new CheckpointException(file.describe() + ": no LoRA pairs in the file");
        }
        return out;
    }

    /** {prefix, component} of a stem, or null. */
    private static String[] component(String stem) {
        for (String[] k : KOHYA) {
            if (stem.startsWith(k[0])) {
                return k;
            }
        }
        for (String[] p : PEFT_PREFIX) {
            if (stem.startsWith(p[0])) {
                return p;
            }
        }
        return null;
    }

    static String first(List<String> names) {
        return names.size() <= 12 ? names.toString()
                : names.subList(0, 12) + " and " + (names.size() - 12) + " more";
    }
}
