package dev.pagoda.nn.clip;

import java.nio.file.Path;

/**
 * A tokenizer folder that cannot be used: a missing or malformed file, or a value that contradicts
 * what the tokenizer needs. The message names the file and what was expected.
 */
public class TokenizerException extends IllegalArgumentException {

    private final Path file;

    public TokenizerException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public TokenizerException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that was being read. */
    public Path file() {
        return file;
    }
}
