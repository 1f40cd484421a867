package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.golden.GoldenFixtures;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs golden cases (the format of shared/golden: {@code index.json}, {@code cases/NAME/case.json},
 * {@code tensors.safetensors}) through Pagoda and compares every listed tensor with the tolerance the
 * fixtures' README gives for its kind. Prints one line per case and a closing
 * {@code N passed, N failed}. A kind Pagoda cannot run yet is a failure that says "unsupported".
 */
public final class ConformanceRunner {

    private final Fixtures fixtures;

    public ConformanceRunner(Path root) {
        this(root, dev.pagoda.tensor.Backend.cpu());
    }

    /**
     * Runs the modules and pipelines of the cases on {@code backend} (weights moved there once per
     * case, inputs uploaded, outputs compared on the host); tokenizers, schedulers and the random
     * generator are host code and run as they are.
     */
    public ConformanceRunner(Path root, dev.pagoda.tensor.Backend backend) {
        if (!Files.isRegularFile(root.resolve("index.json"))) {
            throw new IllegalArgumentException(root + ": not a fixtures folder (no index.json)");
        }
        this.fixtures = new Fixtures(new GoldenFixtures(root), backend);
    }

    /** Every case listed in {@code index.json}. */
    public List<String> caseNames() {
        return GoldenFixtures.strings(fixtures.golden().index().get("cases"));
    }

    /** Runs one case; never throws for a failing case (the exception becomes the failure message). */
    public CaseResult run(String name) {
        if (!caseNames().contains(name)) {
            return CaseResult.failed(name, "no such case in " + fixtures.golden().root().resolve("index.json"));
        }
        try {
            Map<String, Object> c = fixtures.golden().caseJson(name);
            String kind = (String) c.get("kind");
            return switch (kind) {
                case "rng" -> PrimitiveCases.rng(fixtures, name, c);
                case "tokenizer" -> PrimitiveCases.tokenizers(fixtures, name, c);
                case "scheduler" -> SchedulerCases.run(fixtures, name, c);
                case "text_encoder" -> ModelCases.textEncoders(fixtures, name, c);
                case "unet" -> ModelCases.unet(fixtures, name, c);
                case "pag_selection" -> ModelCases.pagSelection(fixtures, name, c);
                case "vae" -> ModelCases.vae(fixtures, name, c);
                case "pipeline" -> PipelineCases.run(fixtures, name, c);
                case "pixart" -> PixArtCases.components(fixtures, name, c);
                default -> CaseResult.unsupported(name, "case kind \"" + kind + "\"");
            };
        } catch (RuntimeException | LinkageError e) {
            return CaseResult.failed(name, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Runs {@code names} (all when empty), printing a line each and the summary; returns the results. */
    public List<CaseResult> runAll(List<String> names, PrintStream out) {
        List<CaseResult> results = new ArrayList<>();
        for (String n : names.isEmpty() ? caseNames() : names) {
            CaseResult r = run(n);
            out.println(r.line());
            out.flush();
            results.add(r);
        }
        long passed = results.stream().filter(CaseResult::passed).count();
        out.println(passed + " passed, " + (results.size() - passed) + " failed");
        return results;
    }
}
