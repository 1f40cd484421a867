package dev.pagoda.bench;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Full-size models built from the published configs in {@code benchmarks/configs/} (SDXL base 1.0,
 * SD 1.5) with deterministic random weights generated in memory — no weights exist here, and
 * multi-GB files are never committed. Also the process's peak resident memory.
 */
final class RealSizeModels {

    private RealSizeModels() {
    }

    /** {@code benchmarks/configs/<model>/<part>/config.json}, from the repository root or benchmarks/. */
    static Path config(String model, String part) {
        for (Path base : new Path[] {Path.of("benchmarks/configs"), Path.of("configs")}) {
            Path p = base.resolve(model).resolve(part).resolve("config.json");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalArgumentException("config of " + model + "/" + part + " not found under benchmarks/configs"
                + " (run from the repository root)");
    }

    /** Fills {@code m} with random weights of {@code dtype}; returns the seconds it took. */
    static <M extends Module> M randomize(M m, DType dtype) {
        long t0 = System.nanoTime();
        WeightLoader.randomize(m, dtype, 1234);
        System.err.printf("random %s weights: %,d parameters in %.1f s%n", dtype, m.parameterCount(),
                (System.nanoTime() - t0) / 1e9);
        return m;
    }

    /** Peak resident set size in GiB (VmHWM), or NaN where /proc is absent. */
    static double peakRssGiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1048576.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    static String arg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--" + name)) {
                return args[i + 1];
            }
        }
        return dflt;
    }
}
