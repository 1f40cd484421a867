package dev.pagoda.tensor;

/** A device has too little memory for what is to be placed on it (e.g. a model's weights). */
public final class DeviceMemoryException extends RuntimeException {

    public DeviceMemoryException(String message) {
        super(message);
    }
}
