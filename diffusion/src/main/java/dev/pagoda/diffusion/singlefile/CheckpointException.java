package dev.pagoda.diffusion.singlefile;

/** A single-file checkpoint or LoRA file that cannot be read as any known layout; the message names the file. */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }
}
