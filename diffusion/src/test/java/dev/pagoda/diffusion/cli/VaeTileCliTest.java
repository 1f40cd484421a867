package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.TINY;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.pngCount;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --vae-tile PX}: the VAE decodes in tiles of that edge (diffusers' {@code vae.tile_sample_min_size}). */
class VaeTileCliTest {

    static String[] gen(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt",
                "a red cube", "--seed", "3", "--steps", "2", "--width", "192", "--height", "128", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void smallTilesGiveTheJavaApisPixels(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("t.png");
        GenerateCommandTest.Run r = run(gen(out, "--vae-tile", "64"));
        assertEquals(0, r.code(), r.err());
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            GenerationParams p = GenerationParams.builder("a red cube").size(128, 192).steps(2).seed(3).build();
            pipe.vae().setTiling(true, 64);
            int[] tiled = pixels(ImageTensors.toImage(pipe.generate(p).image()));
            pipe.vae().setTiling(false);
            int[] whole = pixels(ImageTensors.toImage(pipe.generate(p).image()));
            assertArrayEquals(tiled, pixels(ImageIO.read(out.toFile())));
            assertFalse(java.util.Arrays.equals(tiled, whole), "64-px tiles changed nothing");
        }
    }

    @Test
    void aTileThatIsNotAMultipleOfEightIsAUsageError(@TempDir Path dir) throws Exception {
        GenerateCommandTest.Run r = run(gen(dir.resolve("x.png"), "--vae-tile", "60"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--vae-tile must be a positive multiple of 8 pixels, got 60"), r.err());
        assertEquals(0, pngCount(dir));
    }
}
