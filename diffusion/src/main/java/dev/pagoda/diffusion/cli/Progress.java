package dev.pagoda.diffusion.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Stage lines and a step bar on stderr, and the closing summary with wall time and peak memory. */
final class Progress {

    private final PrintStream err;
    private final long start = System.nanoTime();
    private long stageStart;
    private long stepsStart;

    Progress(PrintStream err) {
        this.err = err;
    }

    private boolean open;

    /** Ends the current stage line (with its time) and starts {@code name}. */
    void stage(String name) {
        done();
        stageStart = System.nanoTime();
        stepsStart = stageStart;
        err.print(name + " ...");
        err.flush();
        open = true;
    }

    /** Ends the current stage line, if one is open. */
    void done() {
        if (open) {
            err.printf(" %.1f s%n", (System.nanoTime() - stageStart) / 1e9);
            open = false;
        }
    }

    void step(int i, int n) {
        open = false;
        double elapsed = (System.nanoTime() - stepsStart) / 1e9;
        double perIt = elapsed / (i + 1);
        int width = 24;
        int filled = (int) Math.round(width * (i + 1) / (double) n);
        err.printf("\rdenoise [%s%s] step %d/%d  %.2f s/it  ETA %.0f s   ", "#".repeat(filled),
                ".".repeat(width - filled), i + 1, n, perIt, perIt * (n - i - 1));
        if (i + 1 == n) {
            err.printf("%n");
        }
        err.flush();
    }

    void summary(String what) {
        done();
        err.printf("%s in %.1f s, peak memory %s%n", what, (System.nanoTime() - start) / 1e9, peakMemory());
    }

    /** Peak resident set size (VmHWM) where /proc exists, else the JVM's heap in use. */
    static String peakMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format("%.2f GiB RSS", kb / 1048576.0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the heap figure
        }
        Runtime rt = Runtime.getRuntime();
        return String.format("%.2f GiB heap", (rt.totalMemory() - rt.freeMemory()) / 1073741824.0);
    }
}
