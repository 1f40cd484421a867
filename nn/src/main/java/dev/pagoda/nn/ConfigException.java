package dev.pagoda.nn;

/** A model config that is missing a required field or holds a value Pagoda does not support. */
public class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
