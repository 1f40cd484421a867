package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of a diffusers {@code scheduler_config.json}: typed access to its fields with the
 * scheduler's own defaults, and errors that name the file, the field and what was expected. Fields a
 * scheduler does not know are ignored, as diffusers ignores them.
 */
public final class SchedulerConfig {

    /** The name of the config file inside a model folder's {@code scheduler/} directory. */
    public static final String FILE_NAME = "scheduler_config.json";

    private final Map<String, Object> values;
    private final String source;

    /**
     * @param values the parsed JSON object
     * @param source where it came from, used in error messages (a path, or a description)
     */
    public SchedulerConfig(Map<String, Object> values, String source) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.source = source;
    }

    /** Reads and parses a {@code scheduler_config.json}. */
    public static SchedulerConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scheduler config " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses JSON text that must be an object. */
    public static SchedulerConfig parse(String json, String source) {
        try {
            return new SchedulerConfig(Json.parseObjectWithNonFinite(json), source);
        } catch (JsonException e) {
            throw new IllegalArgumentException("scheduler config " + source + " is not valid JSON: "
                    + e.getMessage(), e);
        }
    }

    /** The {@code _class_name} field, or null when absent. */
    public String className() {
        Object v = values.get("_class_name");
        if (v != null && !(v instanceof String)) {
            throw error("_class_name", "a string", v);
        }
        return (String) v;
    }

    /** A copy with {@code key} set to {@code value} (e.g. {@code use_karras_sigmas = true}). */
    public SchedulerConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        m.put(key, value);
        return new SchedulerConfig(m, source);
    }

    public Map<String, Object> values() {
        return values;
    }

    public String source() {
        return source;
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    int integer(String key, int def) {
        if (!values.containsKey(key)) {
            return def;
        }
        Object v = values.get(key);
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return l.intValue();
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
            return d.intValue();
        }
        throw error(key, "an integer", v);
    }

    double number(String key, double def) {
        Double d = optionalNumber(key);
        if (d == null) {
            if (values.containsKey(key)) {
                throw error(key, "a number", null);
            }
            return def;
        }
        return d;
    }

    /** A number that may be absent or null (diffusers' {@code Optional[float]}). */
    Double optionalNumber(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Long l) {
            return l.doubleValue();
        }
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof BigInteger b) {
            return b.doubleValue();
        }
        throw error(key, "a number", v);
    }

    boolean bool(String key, boolean def) {
        if (!values.containsKey(key)) {
            return def;
        }
        Object v = values.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw error(key, "true or false", v);
    }

    /** A string that may be absent or null. */
    String optionalString(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return s;
        }
        throw error(key, "a string", v);
    }

    /** One of {@code allowed}; absent means {@code def}. */
    String choice(String key, String def, List<String> allowed) {
        String s = values.containsKey(key) ? optionalString(key) : def;
        if (s == null || !allowed.contains(s)) {
            throw error(key, "one of " + quoted(allowed), s);
        }
        return s;
    }

    /** An array of numbers, or null when absent or null (e.g. {@code trained_betas}). */
    double[] optionalNumbers(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> list)) {
            throw error(key, "an array of numbers", v);
        }
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number n)) {
                throw error(key, "an array of numbers", v);
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    /** An error naming this config, the field, what was expected and what was found. */
    IllegalArgumentException error(String key, String expected, Object got) {
        String found = got instanceof String s ? "\"" + s + "\"" : String.valueOf(got);
        return new IllegalArgumentException("scheduler config " + source + ": \"" + key + "\" is " + found
                + "; expected " + expected);
    }

    static String quoted(List<String> names) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append('"').append(names.get(i)).append('"');
        }
        return b.toString();
    }
}
