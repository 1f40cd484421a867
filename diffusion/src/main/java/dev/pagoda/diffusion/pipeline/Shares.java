package dev.pagoda.diffusion.pipeline;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pipelines that share one set of loaded components ({@code fromPipe} siblings). Each pipeline
 * takes a {@link Share} when it is built and gives it back when it is closed; the last one back
 * closes the components. So closing one sibling never unmaps the weights another still uses, and
 * the weights go as soon as no pipeline holds them.
 */
final class Shares {

    private final Runnable closeComponents;
    private int held;

    Shares(Runnable closeComponents) {
        this.closeComponents = closeComponents;
    }

    /** A new holder's share; {@code owner} names it in the message of calls made after its close. */
    synchronized Share take(String owner) {
        held++;
        return new Share(owner);
    }

    private void giveBack() {
        boolean last;
        synchronized (this) {
            last = --held == 0;
        }
        if (last) {
            closeComponents.run();
        }
    }

    /** One pipeline's hold on the components. */
    final class Share {
        private final String owner;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Share(String owner) {
            this.owner = owner;
        }

        /** @throws IllegalStateException once this holder is closed (its siblings may still run) */
        void checkOpen() {
            if (!open.get()) {
                throw new IllegalStateException(owner + ": the pipeline is closed");
            }
        }

        /** Gives the share back once; the last share back closes the components. */
        void close() {
            if (open.compareAndSet(true, false)) {
                giveBack();
            }
        }
    }
}
