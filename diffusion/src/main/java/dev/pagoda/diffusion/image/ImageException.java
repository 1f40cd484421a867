package dev.pagoda.diffusion.image;

/** An image that cannot be read, fetched, written or that has the wrong size. */
public class ImageException extends RuntimeException {

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
