package dev.pagoda.nn;

import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed access to a JSON config: a model's {@code config.json}, a pipeline's {@code model_index.json},
 * a {@code scheduler_config.json}. Unknown fields are ignored (as diffusers does); a JSON {@code null}
 * counts as absent, so the default applies; a wrong type or a missing required field is a
 * {@link ConfigException} naming the source, the field, what was expected and what was found.
 * Integers may be written as integral numbers ({@code 1000.0}), as Python's {@code int()} accepts them.
 */
public final class JsonConfig {

    private final String source;
    private final Map<String, Object> map;

    public JsonConfig(String source, Map<String, Object> map) {
        this.source = source;
        this.map = Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** Parses JSON text that must be an object; {@code source} names it in error messages. */
    public static JsonConfig parse(String json, String source) {
        try {
            return new JsonConfig(source, Json.parseObjectWithNonFinite(json));
        } catch (JsonException e) {
            throw new ConfigException(source + ": not valid JSON (malformed JSON: " + e.getMessage() + ")", e);
        }
    }

    public static JsonConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": config file not found");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read config: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** A copy with {@code key} set to {@code value}. */
    public JsonConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(map);
        m.put(key, value);
        return new JsonConfig(source, m);
    }

    /** All fields as parsed (unmodifiable). */
    public Map<String, Object> values() {
        return map;
    }

    /** Whether the field is written at all, even as {@code null}. */
    public boolean contains(String key) {
        return map.containsKey(key);
    }

    public String source() {
        return source;
    }

    public Set<String> keys() {
        return map.keySet();
    }

    public boolean has(String key) {
        return map.get(key) != null;
    }

    public Object raw(String key) {
        return map.get(key);
    }

    private ConfigException wrong(String key, String expected) {
        return error(key, expected, map.get(key));
    }

    /** An error naming this config, the field, what was expected and what was found. */
    public ConfigException error(String key, String expected, Object found) {
        String shown = found instanceof String s ? "\"" + s + "\"" : String.valueOf(found);
        return new ConfigException(source + ": field \"" + key + "\" must be " + expected + ", found "
                + Json.typeName(found) + " " + shown);
    }

    private Object required(String key) {
        Object v = map.get(key);
        if (v == null) {
            throw new ConfigException(source + ": required field \"" + key + "\" is missing");
        }
        return v;
    }

    public int integer(String key) {
        Object v = required(key);
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return (int) (long) l;
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
            return d.intValue();
        }
        throw wrong(key, "an integer");
    }

    public int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    public double number(String key) {
        Object v = required(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw wrong(key, "a number");
    }

    public double number(String key, double dflt) {
        return has(key) ? number(key) : dflt;
    }

    public boolean bool(String key, boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        if (map.get(key) instanceof Boolean b) {
            return b;
        }
        throw wrong(key, "true or false");
    }

    public String string(String key) {
        if (required(key) instanceof String s) {
            return s;
        }
        throw wrong(key, "a string");
    }

    public String string(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    /** A list of strings. */
    public List<String> strings(String key) {
        if (required(key) instanceof List<?> l && l.stream().allMatch(x -> x instanceof String)) {
            return l.stream().map(x -> (String) x).toList();
        }
        throw wrong(key, "a list of strings");
    }

    /** A list of integers. */
    public int[] ints(String key) {
        if (required(key) instanceof List<?> l && l.stream().allMatch(JsonConfig::isInt)) {
            return l.stream().mapToInt(x -> (int) (long) (Long) x).toArray();
        }
        throw wrong(key, "a list of integers");
    }

    /**
     * A field that is either one integer (applied to every one of {@code n} entries) or a list of
     * {@code n} integers, like {@code attention_head_dim} or {@code transformer_layers_per_block}.
     */
    public int[] intOrList(String key, int n, Integer dflt) {
        if (!has(key)) {
            if (dflt == null) {
                required(key);
            }
            int[] out = new int[n];
            java.util.Arrays.fill(out, dflt);
            return out;
        }
        Object v = map.get(key);
        if (isInt(v)) {
            long l = (Long) v;
            int[] out = new int[n];
            java.util.Arrays.fill(out, (int) (long) l);
            return out;
        }
        int[] out = ints(key);
        if (out.length != n) {
            throw new ConfigException(source + ": field \"" + key + "\" has " + out.length + " entries, expected "
                    + n);
        }
        return out;
    }
    /**
     * Builds what this config describes. A module that rejects its arguments (channels that do not
     * divide into the norm groups, say) does so with a bare IllegalArgumentException; coming from a
     * config file, that is a {@link ConfigException} naming the file.
     */
    public <T> T build(java.util.function.Supplier<T> builder) {
        try {
            return builder.get();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source + ": describes a model that cannot be built: " + e.getMessage(), e);
        }
    }

    /**
     * {@code value}, read from {@code key}, if it lies in [min, max]. Counts and sizes need bounds: a
     * config claiming 2^31 - 1 layers would otherwise build modules until the heap runs out.
     */
    public int inRange(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw error(key, "an integer in [" + min + ", " + max + "]", (long) value);
        }
        return value;
    }

    /** {@code values}, read from {@code key}, if each lies in [min, max]. */
    public int[] inRange(String key, int[] values, int min, int max) {
        for (int v : values) {
            inRange(key, v, min, max);
        }
        return values;
    }

    private static boolean isInt(Object x) {
        return x instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE;
    }

    /** A number that may be absent or null (diffusers' {@code Optional[float]}). */
    public Double optionalNumber(String key) {
        return has(key) ? number(key) : null;
    }

    /** A string that may be absent or null. */
    public String optionalString(String key) {
        return has(key) ? string(key) : null;
    }

    /** One of {@code allowed}; absent or null means {@code dflt}. */
    public String choice(String key, String dflt, List<String> allowed) {
        String s = string(key, dflt);
        if (s == null || !allowed.contains(s)) {
            throw error(key, "one of " + quoted(allowed), s);
        }
        return s;
    }

    /** A list of numbers, or null when absent or null (e.g. {@code trained_betas}). */
    public double[] optionalNumbers(String key) {
        if (!has(key)) {
            return null;
        }
        if (map.get(key) instanceof List<?> l && l.stream().allMatch(x -> x instanceof Number)) {
            return l.stream().mapToDouble(x -> ((Number) x).doubleValue()).toArray();
        }
        throw wrong(key, "a list of numbers");
    }

    /** {@code "a", "b"}: names for an error message. */
    public static String quoted(List<String> names) {
        StringBuilder b = new StringBuilder();
        for (String n : names) {
            b.append(b.isEmpty() ? "" : ", ").append('"').append(n).append('"');
        }
        return b.toString();
    }
}
