package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.TINY;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.pngCount;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --clip-skip}, {@code --eta}, {@code --timesteps} and {@code --sigmas} of {@code pagoda generate}. */
class CallOptionsCliTest {

    static String[] gen(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt",
                "a red cube", "--seed", "7", "--width", "64", "--height", "64", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static int[] pixels(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void customTimestepsGiveTheJavaApisPixelsAndAreRecorded(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("t.png");
        GenerateCommandTest.Run r = run(gen(out, "--timesteps", "900, 500,100", "--clip-skip", "1"));
        assertEquals(0, r.code(), r.err());
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(out));
        assertEquals("[900.0, 500.0, 100.0]", text.get("timesteps"));
        assertEquals("1", text.get("clip_skip"));
        assertEquals("3", text.get("steps"));
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            BufferedImage want = ImageTensors.toImage(pipe.generate(GenerationParams.builder("a red cube").size(64, 64)
                    .seed(7).timesteps(900, 500, 100).clipSkip(1).build()).image());
            assertArrayEquals(want.getRGB(0, 0, 64, 64, null, 0, 64), pixels(out));
        }
        Path plain = dir.resolve("plain.png");
        assertEquals(0, run(gen(plain, "--timesteps", "900,500,100")).code());
        assertFalse(java.util.Arrays.equals(pixels(plain), pixels(out)), "--clip-skip 1 changed nothing");
    }

    @Test
    void etaReachesDdimAndSigmasRun(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.png");
        Path b = dir.resolve("b.png");
        assertEquals(0, run(gen(a, "--scheduler", "ddim", "--steps", "3")).code());
        GenerateCommandTest.Run r = run(gen(b, "--scheduler", "ddim", "--steps", "3", "--eta", "0.8"));
        assertEquals(0, r.code(), r.err());
        assertEquals("0.8", PngWriter.readText(Files.readAllBytes(b)).get("eta"));
        assertFalse(java.util.Arrays.equals(pixels(a), pixels(b)), "--eta 0.8 changed nothing under DDIM");
        Path s = dir.resolve("s.png");
        assertEquals(0, run(gen(s, "--sigmas", "10,3,0.7,0")).code());
        assertEquals("3", PngWriter.readText(Files.readAllBytes(s)).get("steps"));
    }

    @Test
    void badScheduleOptionsAreNamedAndWriteNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("x.png");
        String[][] bad = {
            {"--timesteps", "900,abc", "must be comma-separated numbers"},
            {"--sigmas", "3", "needs at least 2 levels"},
            {"--timesteps", "900,100", "--steps", "4", "exclude --steps"},
            {"--timesteps", "900,100", "--sigmas", "3,0", "not both"},
            {"--clip-skip", "-1", "--clip-skip must be >= 0"},
            {"--eta", "-0.5", "--eta must be a finite number >= 0"},
            {"--timesteps", "900,100", "--scheduler", "ddim", "does not support custom timestep"},
            {"--clip-skip", "7", "skips more layers than text_encoder"},
        };
        for (String[] c : bad) {
            String[] flags = java.util.Arrays.copyOf(c, c.length - 1);
            GenerateCommandTest.Run r = run(gen(out, flags));
            assertTrue(r.code() != 0, String.join(" ", flags) + ": exit 0");
            assertTrue(r.err().contains(c[c.length - 1]), String.join(" ", flags) + ": " + r.err());
            assertEquals(0, pngCount(dir), String.join(" ", flags) + " wrote a file");
        }
    }
}
