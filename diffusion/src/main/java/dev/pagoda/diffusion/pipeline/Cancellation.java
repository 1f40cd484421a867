package dev.pagoda.diffusion.pipeline;

/**
 * A request to stop a run, settable from any thread (a Ctrl-C handler, a UI button): the run checks
 * it before every step and before decoding, and ends with a {@link GenerationCancelledException}.
 * One token may be shared by several runs to stop them all.
 */
public final class Cancellation {

    private volatile boolean requested;

    public void cancel() {
        requested = true;
    }

    public boolean isCancelled() {
        return requested;
    }
}
