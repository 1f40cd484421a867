package dev.pagoda.tensor.safetensors;

import java.nio.file.Path;

/** A safetensors file that cannot be trusted or read, with the file name and the reason. */
public class SafetensorsException extends RuntimeException {

    public SafetensorsException(Path file, String reason) {
        super(file + ": " + reason);
    }

    public SafetensorsException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
    }
}
