package dev.pagoda.tensor.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one reader of the golden layout, on the vendored fixtures. */
class GoldenFixturesTest {

    private final GoldenFixtures golden = GoldenFixtures.vendored();

    @Test
    void everyIndexedCaseHasItsJsonAndTensors() {
        List<Object> cases = GoldenFixtures.list(golden.index(), "cases");
        assertFalse(cases.isEmpty(), "index.json lists no cases");
        for (Object o : cases) {
            String name = (String) o;
            assertTrue(Files.isRegularFile(golden.caseDir(name).resolve("case.json")), name);
            assertFalse(golden.caseJson(name).isEmpty(), name);
            if (Files.exists(golden.caseDir(name).resolve("tensors.safetensors"))) {
                try (GoldenFixtures.Case c = golden.open(name)) {
                    assertEquals(golden.caseJson(name), c.json());
                    assertEquals(golden.caseDir(name), c.dir());
                    assertFalse(c.tensors().names().isEmpty(), name);
                }
            }
        }
        assertTrue(Files.isDirectory(golden.model("tiny-sdxl")));
        assertEquals(golden.model("tiny-sdxl"), golden.path("models/tiny-sdxl"));
    }

    @Test
    void jsonShapeHelpers() {
        assertEquals(List.of("a", "b"), GoldenFixtures.strings(List.of("a", "b")));
        assertEquals(3, GoldenFixtures.ints(List.of(1L, 2L, 3L))[2]);
        assertEquals(2.5f, GoldenFixtures.floats(List.of(1L, 2.5))[1]);
        Tensor t = GoldenFixtures.longs(List.of(49406L, 320L));
        assertEquals(2, t.shape()[1]);
        assertTrue(GoldenFixtures.list(Map.of(), "missing").isEmpty());
    }

    @Test
    void relIsTheReadmeMeasure() {
        assertEquals(0.25, GoldenFixtures.rel(new float[] {1.5f, 2}, new float[] {1, 2}), 1e-12, "0.5 / max(1, 2)");
        assertEquals(0.1, GoldenFixtures.rel(new float[] {0.1f}, new float[] {0}), 1e-7, "scale is at least 1");
        assertEquals(Double.POSITIVE_INFINITY, GoldenFixtures.rel(new float[] {Float.NaN}, new float[] {0}));
        assertEquals(Double.POSITIVE_INFINITY, GoldenFixtures.rel(new float[] {0}, new float[] {0, 0}));
    }
}
