package dev.pagoda.nn;

import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed access to a {@code config.json}. Unknown fields are ignored (as diffusers does); a JSON
 * {@code null} counts as absent, so the default applies; a wrong type or a missing required field is
 * a {@link ConfigException} naming the file and the field.
 */
public final class JsonConfig {

    private final String source;
    private final Map<String, Object> map;

    public JsonConfig(String source, Map<String, Object> map) {
        this.source = source;
        this.map = map;
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
        try {
            return new JsonConfig(file.toString(), Json.parseObjectWithNonFinite(text));
        } catch (JsonException e) {
            throw new ConfigException(file + ": malformed JSON: " + e.getMessage(), e);
        }
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
        return new ConfigException(source + ": field \"" + key + "\" must be " + expected + ", found "
                + Json.typeName(map.get(key)) + " " + map.get(key));
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
        if (required(key) instanceof List<?> l && l.stream().allMatch(x -> x instanceof Long)) {
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
        if (v instanceof Long l) {
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
}
