package dev.pagoda.tensor.json;

/** Malformed JSON, with the line and column where reading stopped. */
public class JsonException extends RuntimeException {

    public JsonException(String message) {
        super(message);
    }
}
