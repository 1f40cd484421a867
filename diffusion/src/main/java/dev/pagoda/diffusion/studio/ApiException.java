package dev.pagoda.diffusion.studio;

/**
 * A request the studio refuses: the HTTP status (4xx) and the message that goes back as
 * {@code {"error": message, "field": field}}; {@code field} names the form field at fault (or null).
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String field;

    public ApiException(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    public int status() {
        return status;
    }

    public String field() {
        return field;
    }
}
