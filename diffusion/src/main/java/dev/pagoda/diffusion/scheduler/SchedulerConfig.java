package dev.pagoda.diffusion.scheduler;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The contents of a diffusers {@code scheduler_config.json}: the project's one typed-config reader
 * ({@link JsonConfig}) under the scheduler's name, with the scheduler's defaults at each call. Errors
 * are {@link ConfigException}s naming the file, the field and what was expected. Fields a scheduler
 * does not know are ignored, as diffusers ignores them; a {@code null} field takes the default.
 */
public final class SchedulerConfig {

    /** The name of the config file inside a model folder's {@code scheduler/} directory. */
    public static final String FILE_NAME = "scheduler_config.json";

    private final JsonConfig config;
    private final String source;

    /**
     * @param values the parsed JSON object
     * @param source where it came from, used in error messages (a path, or a description)
     */
    public SchedulerConfig(Map<String, Object> values, String source) {
        this(new JsonConfig("scheduler config " + source, values), source);
    }

    private SchedulerConfig(JsonConfig config, String source) {
        this.config = config;
        this.source = source;
    }

    /** Reads and parses a {@code scheduler_config.json}. */
    public static SchedulerConfig read(Path file) {
        return new SchedulerConfig(JsonConfig.read(file).values(), file.toString());
    }

    /** Parses JSON text that must be an object. */
    public static SchedulerConfig parse(String json, String source) {
        return new SchedulerConfig(JsonConfig.parse(json, "scheduler config " + source), source);
    }

    /** The {@code _class_name} field, or null when absent. */
    public String className() {
        return config.optionalString("_class_name");
    }

    /** A copy with {@code key} set to {@code value} (e.g. {@code use_karras_sigmas = true}). */
    public SchedulerConfig with(String key, Object value) {
        return new SchedulerConfig(config.with(key, value), source);
    }

    public Map<String, Object> values() {
        return config.values();
    }

    /** Where the config came from (a path, or a description). */
    public String source() {
        return source;
    }

    public boolean contains(String key) {
        return config.contains(key);
    }

    /** The typed reader underneath. */
    public JsonConfig json() {
        return config;
    }

    int integer(String key, int def) {
        return config.integer(key, def);
    }

    double number(String key, double def) {
        return config.number(key, def);
    }

    Double optionalNumber(String key) {
        return config.optionalNumber(key);
    }

    boolean bool(String key, boolean def) {
        return config.bool(key, def);
    }

    String optionalString(String key) {
        return config.optionalString(key);
    }

    String choice(String key, String def, List<String> allowed) {
        return config.choice(key, def, allowed);
    }

    double[] optionalNumbers(String key) {
        return config.optionalNumbers(key);
    }

    ConfigException error(String key, String expected, Object got) {
        return config.error(key, expected, got);
    }

    static String quoted(List<String> names) {
        return JsonConfig.quoted(names);
    }
}
