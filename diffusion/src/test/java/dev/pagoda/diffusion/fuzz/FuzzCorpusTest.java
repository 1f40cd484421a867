package dev.pagoda.diffusion.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The fuzz suite over every parser of untrusted input. In CI it runs a fixed-seed corpus per target
 * and prints the case counts. A long campaign is the same test with more cases (see RELIABILITY.md):
 * {@code -Dpagoda.fuzz.cases=100000 -Dpagoda.fuzz.seed=7 -Dpagoda.fuzz.targets=image,cli}.
 * Inputs that fail are saved under {@code target/fuzz-failures}; a case replays from its seed and
 * number alone.
 */
class FuzzCorpusTest {

    static List<FuzzTarget> targets() {
        return List.of(new SafetensorsTarget(), new JsonTarget(), new ConfigTarget(), new SchedulerTarget(),
                new TokenizerTarget(), new ImageTarget(), new CliTarget());
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        long cases = Long.getLong("pagoda.fuzz.cases", 1000);
        long seed = Long.getLong("pagoda.fuzz.seed", 1);
        long timeout = Long.getLong("pagoda.fuzz.timeoutMs", 10_000);
        String only = System.getProperty("pagoda.fuzz.targets", "");
        List<String> selected = only.isBlank() ? List.of() : Arrays.asList(only.split(","));
        FuzzRunner runner = new FuzzRunner(seed, timeout, Path.of("target", "fuzz-failures"));
        return targets().stream().filter(t -> selected.isEmpty() || selected.contains(t.name()))
                .map(t -> DynamicTest.dynamicTest(t.name(), () -> {
                    FuzzRunner.Report r = runner.run(t, cases);
                    System.out.println("fuzz seed " + seed + ": " + r.summary());
                    assertTrue(r.findings().isEmpty(), r.summary() + "\n" + String.join("\n", r.findings()));
                }));
    }
}
