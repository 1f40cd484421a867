package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageException;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.golden.GoldenFixtures;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link GenerationResult#save}: a PNG with the call's parameters, from the Java API. */
class GenerationResultSaveTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");

    @Test
    void savesEachImageWithTheCallsParameters(@TempDir Path dir) throws IOException {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            GenerationResult r = pipe.generate(GenerationParams.builder("a red cube").negativePrompt("blur").steps(2)
                    .seed(4).numImagesPerPrompt(2).build());
            r.save(dir.resolve("a.png"));
            r.save(dir.resolve("b.png"), 1);
            Map<String, String> text = PngWriter.readText(Files.readAllBytes(dir.resolve("a.png")));
            assertEquals("a red cube", text.get("prompt"));
            assertEquals("blur", text.get("negative_prompt"));
            assertEquals("2", text.get("steps"));
            assertEquals("3.0", text.get("pag_scale"));
            assertEquals("mid", text.get("pag_applied_layers"));
            assertEquals("128x128", text.get("size"));
            assertEquals("StableDiffusionXLPipeline", text.get("pipeline"));
            assertEquals("EulerDiscreteScheduler", text.get("sampler"));
            BufferedImage a = ImageIO.read(dir.resolve("a.png").toFile());
            BufferedImage b = ImageIO.read(dir.resolve("b.png").toFile());
            assertEquals(128, a.getWidth());
            assertFalse(a.getRGB(5, 5) == b.getRGB(5, 5) && a.getRGB(60, 70) == b.getRGB(60, 70), "two different images");
            assertThrows(IndexOutOfBoundsException.class, () -> r.save(dir.resolve("c.png"), 2));
            assertThrows(ImageException.class, () -> r.save(dir.resolve("missing/c.png")));
            GenerationResult latent = pipe.generate(GenerationParams.builder("x").steps(1)
                    .outputType(GenerationParams.OutputType.LATENT).build());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> latent.save(dir.resolve("d.png")));
            assertTrue(e.getMessage().contains("latents only"));
            try (var files = Files.list(dir)) {
                assertEquals(2, files.count(), "only a.png and b.png were written");
            }
        }
    }
}
