package dev.pagoda.tensor;

/** A requested backend cannot be used here: unknown name, module not on the class path, no platform or device. */
public final class BackendUnavailableException extends RuntimeException {

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
