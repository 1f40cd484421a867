package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The conformance runner on the vendored golden fixtures: every case Pagoda supports must pass. */
class GoldenConformanceTest {

    static Path root() {
        return GoldenFixtures.vendored().root();
    }

    static Stream<String> supported() {
        // every golden case, ControlNet included: none may be skipped or reported unsupported
        return new ConformanceRunner(root()).caseNames().stream();
    }

    @ParameterizedTest
    @MethodSource("supported")
    void casePasses(String name) {
        CaseResult r = new ConformanceRunner(root()).run(name);
        assertTrue(r.passed(), r.line());
    }

    @Test
    void runnerPrintsALinePerCaseAndTheSummary() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ConformanceRunner runner = new ConformanceRunner(root());
        List<CaseResult> rs = runner.runAll(List.of("rng_torch_randn", "pag_layer_selection", "no_such_case"),
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(4, lines.length);
        assertTrue(lines[0].startsWith("PASS rng_torch_randn"), lines[0]);
        assertTrue(lines[2].startsWith("FAIL no_such_case") && lines[2].contains("no such case"), lines[2]);
        assertEquals("2 passed, 1 failed", lines[3]);
        assertEquals(3, rs.size());
    }
}
