package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.conformance.CaseResult;
import dev.pagoda.diffusion.conformance.ConformanceRunner;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** The {@code pagoda} command line: {@code generate}, {@code serve}, {@code conformance}, {@code devices}. */
public final class Main {

    static final String VERSION = "0.1.0";

    static final String HELP = """
            Pagoda %s — SDXL image generation with Perturbed-Attention Guidance, in pure Java.

            Usage: pagoda COMMAND [options]

            Commands:
              generate      generate an image (text-to-image, image-to-image, inpainting)
              grid          one PNG comparing PAG scales x layer sets (x CFG scales), same seed
              serve         the studio: a local web page and JSON API (generate, compare PAG, gallery)
              conformance   run golden fixture cases and compare against diffusers' outputs
              devices       list the backends and the devices they see (OpenCL platforms/devices)

            Run `pagoda COMMAND --help` for a command's options.
            """.formatted(VERSION);

    static final String CONFORMANCE_HELP = """
            Usage: pagoda conformance FIXTURES_DIR [--case NAME[,NAME...]] [--backend cpu|opencl[:P:D]]

            Runs the golden cases of FIXTURES_DIR (index.json, cases/NAME/case.json) and prints one line
            per case (PASS/FAIL, name, worst tensor, its error) and `N passed, N failed`.
            --backend runs the models and pipelines on that backend (default cpu).
            Exit code 0 iff every selected case passes.
            """;

    static final String DEVICES_HELP = """
            Usage: pagoda devices

            Lists the backends on the class path and the devices each one sees; for OpenCL one line per
            device: PLATFORM:DEVICE index (for --backend opencl:P:D), name, platform, memory, compute
            units, fp16 and fp64 support. The launcher puts the OpenCL module on the class path.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit code (0 ok, 2 usage error, 1 runtime failure). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
                out.print(HELP);
                return args.length == 0 ? 2 : 0;
            }
            if (args[0].equals("--version")) {
                out.println("pagoda " + VERSION);
                return 0;
            }
            return switch (args[0]) {
                case "generate" -> GenerateCommand.run(args, out, err);
                case "grid" -> GridCommand.run(args, out, err);
                case "serve" -> ServeCommand.run(args, out, err);
                case "conformance" -> conformance(args, out);
                case "devices" -> devices(args, out);
                default -> throw new UsageException("unknown command \"" + args[0]
                        + "\" (commands: generate, grid, serve, conformance, devices)");
            };
        } catch (UsageException e) {
            err.println("pagoda: " + e.getMessage());
            return 2;
        } catch (RuntimeException | OutOfMemoryError e) {
            err.println();
            err.println("pagoda: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    /** The backend named on the command line; an unknown or unavailable one is a runtime failure naming why. */
    static Backend backend(String spec) {
        return BackendProvider.open(spec);
    }

    private static int devices(String[] argv, PrintStream out) {
        Args a = new Args(argv, 1, Set.of(), Set.of("help"));
        if (a.has("help")) {
            out.print(DEVICES_HELP);
            return 0;
        }
        out.println("cpu: " + Runtime.getRuntime().availableProcessors() + " threads, "
                + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors");
        List<BackendProvider> providers = BackendProvider.all();
        for (BackendProvider p : providers) {
            out.println(p.name() + ":");
            for (String line : p.describeDevices()) {
                out.println("  " + line);
            }
        }
        if (providers.stream().noneMatch(p -> p.name().equals("opencl"))) {
            out.println("opencl: the OpenCL module is not on the class path (the pagoda launcher adds it)");
        }
        return 0;
    }

    private static int conformance(String[] argv, PrintStream out) {
        Args a = new Args(argv, 1, Set.of("case", "backend"), Set.of("help"));
        if (a.has("help")) {
            out.print(CONFORMANCE_HELP);
            return 0;
        }
        if (a.positional().size() != 1) {
            throw new UsageException("conformance needs exactly one FIXTURES_DIR (see --help)");
        }
        ConformanceRunner runner;
        try {
            runner = new ConformanceRunner(Path.of(a.positional().get(0)), backend(a.get("backend", "cpu")));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<String> names = a.has("case") ? Arrays.stream(a.get("case", "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList() : List.of();
        for (String n : names) {
            if (!runner.caseNames().contains(n)) {
                throw new UsageException("no case named \"" + n + "\" (cases: " + String.join(", ", runner.caseNames())
                        + ")");
            }
        }
        List<CaseResult> results = runner.runAll(names, out);
        return results.stream().allMatch(CaseResult::passed) ? 0 : 1;
    }
}
