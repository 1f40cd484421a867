package dev.pagoda.diffusion.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --flag value} / {@code --flag=value} / {@code --switch} parsing against a known set of flags. */
final class Args {

    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private final Map<String, List<String>> repeated = new LinkedHashMap<>();

    Args(String[] argv, int from, Set<String> valued, Set<String> switches) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            String key = a.substring(2);
            String value = null;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            }
            if (switches.contains(key)) {
                if (value != null) {
                    throw new UsageException("--" + key + " takes no value");
                }
                values.put(key, "true");
            } else if (valued.contains(key)) {
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException("--" + key + " needs a value");
                    }
                    value = argv[++i];
                }
                values.put(key, value);
                repeated.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
            } else {
                throw new UsageException("unknown option --" + key + " (see --help)");
            }
        }
    }

    /** Every value a repeatable flag was given, in order (empty when absent). */
    List<String> all(String key) {
        return repeated.getOrDefault(key, List.of());
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    String get(String key, String dflt) {
        return values.getOrDefault(key, dflt);
    }

    String require(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            throw new UsageException("--" + key + " is required (see --help)");
        }
        return v;
    }

    int integer(String key, int dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " must be an integer, got \"" + v + "\"");
        }
    }

    long longValue(String key, long dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " must be an integer, got \"" + v + "\"");
        }
    }

    float number(String key, float dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            float f = Float.parseFloat(v.trim());
            if (!Float.isFinite(f)) {
                throw new NumberFormatException();
            }
            return f;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " must be a number, got \"" + v + "\"");
        }
    }

    /**
     * {@code --out} (or {@code dflt}) as a path whose folder exists; checked before any model loads so a
     * typo costs nothing.
     */
    java.nio.file.Path outputFile(String dflt) {
        java.nio.file.Path out = java.nio.file.Path.of(get("out", dflt));
        java.nio.file.Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
            throw new UsageException("output directory " + dir + " does not exist (--out " + out + ")");
        }
        return out;
    }

    /** An image side ({@code --width}, {@code --height}): a positive multiple of 8, or null when absent. */
    Integer imageSide(String key) {
        if (!has(key)) {
            return null;
        }
        int v = integer(key, 0);
        if (v <= 0 || v % 8 != 0) {
            throw new UsageException("--width and --height must be positive multiples of 8, got " + v);
        }
        return v;
    }

    /**
     * {@code --variant}: diffusers' {@code variant=}. Absent means the plain {@code *.safetensors} files
     * (diffusers' default); {@code fp16} picks {@code *.fp16.safetensors}. Either falls back to the other
     * files for a part that has only those.
     */
    boolean fp16Variant() {
        String v = get("variant", null);
        if (v == null) {
            return false;
        }
        if (!v.equals("fp16")) {
            throw new UsageException("--variant must be fp16 (the only weight variant Pagoda looks for), got " + v);
        }
        return true;
    }

    List<String> positional() {
        return positional;
    }
}
