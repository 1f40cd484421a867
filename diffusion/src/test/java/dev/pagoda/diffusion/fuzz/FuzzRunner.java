package dev.pagoda.diffusion.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a target for a number of cases. Case {@code i} of seed {@code s} draws its input from
 * {@code new Random(s * 1_000_003 + i)}, so a reported case number replays on its own. Each case runs
 * on a worker thread under a time limit; a case that overruns is reported as a hang and its thread is
 * abandoned (a daemon) so the campaign goes on.
 */
final class FuzzRunner {

    /** What a run found. */
    record Report(String target, long cases, long accepted, Map<String, Long> namedErrors, List<String> findings,
            long millis) {

        String summary() {
            return String.format("%-16s %8d cases in %6.1f s: %d ok, %d named errors %s, %d findings", target, cases,
                    millis / 1000.0, accepted, cases - accepted - findings.size(), namedErrors, findings.size());
        }
    }

    private final long seed;
    private final long timeoutMillis;
    private final Path failures;

    FuzzRunner(long seed, long timeoutMillis, Path failures) {
        this.seed = seed;
        this.timeoutMillis = timeoutMillis;
        this.failures = failures;
    }

    /** The acceptable exceptions: Pagoda's own, which name the input and what was expected. */
    static boolean named(Throwable t) {
        return t instanceof RuntimeException && t.getClass().getName().startsWith("dev.pagoda.");
    }

    Report run(FuzzTarget target, long cases) throws IOException {
        Path scratch = Files.createTempDirectory("pagoda-fuzz-" + target.name());
        ExecutorService worker = newWorker(target);
        long ok = 0;
        Map<String, Long> named = new TreeMap<>();
        List<String> findings = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (long i = 0; i < cases; i++) {
                byte[] input = target.next(new Random(seed * 1_000_003L + i));
                Future<Throwable> f = worker.submit(() -> {
                    try {
                        target.run(input, scratch);
                        return null;
                    } catch (Throwable t) {
                        return t;
                    }
                });
                Throwable t;
                try {
                    t = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    worker.shutdownNow();
                    worker = newWorker(target);
                    findings.add(record(target, i, input, "hang: no result after " + timeoutMillis + " ms", null));
                    continue;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                if (t == null) {
                    ok++;
                } else if (named(t)) {
                    named.merge(t.getClass().getSimpleName(), 1L, Long::sum);
                } else {
                    findings.add(record(target, i, input, t.toString(), t));
                }
                if (findings.size() >= 20) {
                    break;
                }
            }
        } finally {
            worker.shutdownNow();
        }
        long done = ok + named.values().stream().mapToLong(Long::longValue).sum() + findings.size();
        return new Report(target.name(), done, ok, named, findings, (System.nanoTime() - start) / 1_000_000);
    }

    private static ExecutorService newWorker(FuzzTarget target) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "fuzz-" + target.name());
            th.setDaemon(true);
            return th;
        });
    }

    private String record(FuzzTarget target, long i, byte[] input, String what, Throwable t) throws IOException {
        Files.createDirectories(failures);
        Path file = failures.resolve(target.name() + "-seed" + seed + "-case" + i + ".bin");
        Files.write(file, input);
        StringWriter trace = new StringWriter();
        if (t != null) {
            t.printStackTrace(new PrintWriter(trace));
        }
        return target.name() + " case " + i + " (input saved to " + file + "): " + what + "\n" + trace;
    }
}
