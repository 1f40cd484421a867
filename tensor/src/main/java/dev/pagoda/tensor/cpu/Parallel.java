package dev.pagoda.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one thread pool every CPU kernel shares. Work is split into ranges that the pool's threads
 * claim dynamically, so uneven tiles balance themselves. {@link #setThreads(int)} changes the
 * degree of parallelism (benchmarks compare 1 and 2 threads); 1 runs everything on the caller.
 */
public final class Parallel {

    /** A body that processes indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static volatile int threads = defaultThreads();
    private static volatile ForkJoinPool pool = newPool(threads);

    private Parallel() {
    }

    private static int defaultThreads() {
        String p = System.getProperty("pagoda.threads");
        if (p != null) {
            return Math.max(1, Integer.parseInt(p.trim()));
        }
        return Runtime.getRuntime().availableProcessors();
    }

    private static ForkJoinPool newPool(int n) {
        return new ForkJoinPool(Math.max(1, n), p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("pagoda-cpu-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads kernels use from now on. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n != threads) {
            ForkJoinPool old = pool;
            pool = newPool(n);
            threads = n;
            old.shutdown();
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of {@code grain} indices, spread over the pool.
     * Returns when every chunk is done; an exception in any chunk is rethrown.
     */
    public static void range(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = (n + g - 1) / g;
        int t = threads;
        if (t == 1 || chunks == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                int s = c * g;
                body.run(s, Math.min(n, s + g));
            }
        };
        int workers = Math.min(t, chunks);
        ForkJoinPool p = pool;
        // The caller works too: workers - 1 helpers plus this thread.
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[workers - 1];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = p.submit(worker);
        }
        RuntimeException failure = null;
        try {
            worker.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** {@link #range} with a grain that gives each thread a few chunks. */
    public static void range(int n, RangeBody body) {
        range(n, Math.max(1, n / (threads * 4)), body);
    }
}
