package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every safetensors file of the vendored golden fixtures (written by the reference Python
 * implementation) reads, matches its case.json table, and is rewritten byte for byte.
 */
class GoldenSafetensorsTest {

    @TempDir
    Path dir;

    static Path golden() {
        return GoldenFixtures.vendored().root();
    }

    static Stream<Path> goldenFiles() throws IOException {
        List<Path> all;
        try (Stream<Path> models = Files.walk(golden().resolve("models"));
                Stream<Path> cases = Files.walk(golden().resolve("cases"))) {
            all = Stream.concat(models, cases).filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        return all.stream();
    }

    @Test
    void fixturesHoldTheExpectedNumberOfFiles() throws IOException {
        // 10 model files and 20 case files; a vendoring mistake should not silently shrink this test.
        assertEquals(30, goldenFiles().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFiles")
    void everyTensorReadsWithTheDocumentedDtype(Path file) {
        // README: text encoders are float16 on disk, every other file float32.
        DType expected = file.toString().contains("tiny-sdxl/text_encoder") ? DType.F16 : DType.F32;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertFalse(f.names().isEmpty());
            for (String name : f.names()) {
                Tensor t = f.tensor(name);
                assertEquals(expected, t.dtype(), name);
                float[] v = t.toFloatArray();
                assertEquals(t.numel(), v.length, name);
                for (float x : v) {
                    assertTrue(Float.isFinite(x), name + " holds a non-finite value");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFiles")
    void rewritingReproducesTheReferenceFileByteForByte(Path file) throws IOException {
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String name : f.names()) {
                all.put(name, f.tensor(name));
            }
            SafetensorsWriter.write(copy, all, f.metadata());
        }
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(copy));
    }

    @Test
    void caseTensorsMatchTheirCaseJsonTables() throws IOException {
        int checked = 0;
        try (Stream<Path> cases = Files.list(golden().resolve("cases"))) {
            for (Path c : cases.sorted().toList()) {
                Path caseJson = c.resolve("case.json");
                Path tensors = c.resolve("tensors.safetensors");
                Object table = Json.parseObjectWithNonFinite(Files.readString(caseJson)).get("tensors");
                if (!(table instanceof Map<?, ?> m) || m.isEmpty()) {
                    assertFalse(Files.exists(tensors), c + " has tensors but no table");
                    continue;
                }
                try (SafetensorsFile f = SafetensorsFile.open(tensors)) {
                    assertEquals(m.keySet(), f.names(), c + ": names");
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        List<?> shape = (List<?>) ((Map<?, ?>) e.getValue()).get("shape");
                        int[] expected = shape.stream().mapToInt(d -> Math.toIntExact((Long) d)).toArray();
                        assertArrayEquals(expected, f.info((String) e.getKey()).shape(), c + ": " + e.getKey());
                        assertEquals(DType.F32, f.info((String) e.getKey()).dtype(), c + ": " + e.getKey());
                    }
                }
                checked++;
            }
        }
        assertEquals(20, checked, "cases with a tensors table");
    }

    @Test
    void modelFoldersOpenThroughWeightFiles() {
        Path sdxl = golden().resolve("models/tiny-sdxl");
        try (TensorStore s = WeightFiles.open(sdxl.resolve("unet"), "diffusion_pytorch_model", true)) {
            assertTrue(s.contains("conv_in.weight"));
        }
        try (TensorStore s = WeightFiles.open(sdxl.resolve("vae"), "diffusion_pytorch_model", false)) {
            assertTrue(s.contains("decoder.conv_in.weight"));
        }
        try (TensorStore s = WeightFiles.open(sdxl.resolve("text_encoder_2"), "model", false)) {
            assertEquals(DType.F16, s.info("text_model.embeddings.position_embedding.weight").dtype());
        }
    }
}
