package dev.pagoda.diffusion.cli;

/** A command line that cannot be run as given: exit code 2 with a one-line message. */
public class UsageException extends RuntimeException {

    public UsageException(String message) {
        super(message);
    }
}
