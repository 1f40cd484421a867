package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.cli.Main;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A UNet weight holding inf makes the run stop with a named error at the first step, writing nothing. */
class NonFiniteGuardTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");
    static final String BAD = "down_blocks.1.resnets.0.conv1.weight";

    /** The tiny SDXL folder with one element of {@link #BAD} set to +inf. */
    static Path poisonedModel(Path dir) throws IOException {
        Path model = dir.resolve("tiny-sdxl-inf");
        try (Stream<Path> files = Files.walk(TINY)) {
            for (Path f : files.toList()) {
                Path to = model.resolve(TINY.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(TINY.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            for (String name : f.names()) {
                float[] v = f.tensor(name).toFloatArray();
                if (name.equals(BAD)) {
                    v[v.length / 2] = Float.POSITIVE_INFINITY;
                }
                tensors.put(name, Tensor.of(v, f.tensor(name).shape()));
            }
        }
        Files.delete(unet);
        SafetensorsWriter.write(unet, tensors);
        return model;
    }

    @Test
    void infWeightStopsAtTheFirstStepNamingTheBlockAndWeight(@TempDir Path dir) throws IOException {
        Path model = poisonedModel(dir);
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(model,
                PipelineOptions.pag(List.of("mid")))) {
            GenerationParams p = GenerationParams.builder("a red cube").steps(3).size(64, 64).seed(1).build();
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> pipe.generate(p));
            assertEquals(0, e.step());
            assertEquals("down_blocks.1", e.module());
            assertTrue(e.getMessage().contains("step 1/3") && e.getMessage().contains(BAD)
                    && e.getMessage().contains("--no-finite-check"), e.getMessage());
            // opted out, the run goes on to the end (and its latents are what the weights make of them)
            GenerationResult r = pipe.generate(p.toBuilder().seed(1).checkFinite(false).build());
            assertTrue(!Float.isFinite(r.latents().toFloatArray()[0]));
        }
    }

    @Test
    void cliReportsItAndWritesNothing(@TempDir Path dir) throws IOException {
        Path model = poisonedModel(dir);
        Path outDir = Files.createDirectory(dir.resolve("out"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"generate", "--model", model.toString(), "--prompt", "a red cube",
                "--steps", "2", "--width", "64", "--height", "64", "--out", outDir.resolve("x.png").toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        String msg = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, msg);
        assertTrue(msg.contains("non-finite noise prediction at step 1/2") && msg.contains("down_blocks.1"), msg);
        try (Stream<Path> s = Files.list(outDir)) {
            assertEquals(0, s.count());
        }
    }
}
