package dev.pagoda.diffusion.pipeline;

/** A run would not fit in the heap or RAM ({@link MemoryGuard}); the message says what would. */
public final class InsufficientMemoryException extends RuntimeException {

    private final MemoryGuard.Estimate estimate;

    public InsufficientMemoryException(String message, MemoryGuard.Estimate estimate) {
        super(message);
        this.estimate = estimate;
    }

    public MemoryGuard.Estimate estimate() {
        return estimate;
    }
}
