package dev.pagoda.nn;

/**
 * A config file (model {@code config.json}, {@code model_index.json}, {@code scheduler_config.json})
 * that is missing, malformed, lacks a required field or holds a value Pagoda does not support. It is
 * an {@link IllegalArgumentException}: the config is an argument of the load that failed.
 */
public class ConfigException extends IllegalArgumentException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
