package dev.pagoda.opencl;

/** The OpenCL device has too little memory for an allocation or for a model's weights. */
public final class ClOutOfMemoryException extends RuntimeException {

    ClOutOfMemoryException(String message) {
        super(message);
    }

    ClOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
