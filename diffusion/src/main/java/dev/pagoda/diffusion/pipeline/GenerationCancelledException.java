package dev.pagoda.diffusion.pipeline;

/** A run stopped by its {@link Cancellation} or its step callback; nothing was produced. */
public final class GenerationCancelledException extends RuntimeException {

    private final int completedSteps;

    public GenerationCancelledException(int completedSteps, int steps) {
        super("generation cancelled after " + completedSteps + " of " + steps + " steps");
        this.completedSteps = completedSteps;
    }

    /** Steps finished before the run stopped. */
    public int completedSteps() {
        return completedSteps;
    }
}
