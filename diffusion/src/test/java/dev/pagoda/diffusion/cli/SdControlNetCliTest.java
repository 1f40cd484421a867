package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.ControlNetParams;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdPipelines;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGPipeline;
import dev.pagoda.nn.controlnet.ControlNetModel;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --model <SD 1.5 folder> --controlnet ...}: the Java API's pixels, and what it refuses. */
class SdControlNetCliTest {

    static final Path NET = Path.of("src/test/resources/sd15controlnet/tiny-sd15-controlnet");
    static final Path CONTROL = Path.of("src/test/resources/sd15controlnet/control64.png");

    @Test
    void controlNetTextToImageEqualsTheJavaApi(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("c.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(SdGenerateCommandTest.gen(out, "--controlnet",
                NET.toString(), "--control-image", CONTROL.toString(), "--control-scale", "0.7"));
        assertEquals(0, r.code(), r.err());
        assertTrue(PngWriter.readText(Files.readAllBytes(out)).get("pipeline")
                .equals("StableDiffusionControlNetPAGPipeline"));
        BufferedImage control = ImageSource.load(CONTROL.toString());
        try (StableDiffusionPAGPipeline pipe = SdPipelines.text2Image(SdGenerateCommandTest.TINY,
                PipelineOptions.pag(List.of("mid")).controlnet(ControlNetModel.fromPretrained(NET, false)))) {
            BufferedImage want = ImageTensors.toImage(pipe.generate(GenerationParams.builder("a red cube").steps(2)
                    .seed(5).guidanceScale(7.5f).controlNet(new ControlNetParams(List.of(control), new float[] {0.7f},
                            null, null, false, true)).build()).image());
            BufferedImage got = ImageIO.read(out.toFile());
            assertArrayEquals(want.getRGB(0, 0, 64, 64, null, 0, 64), got.getRGB(0, 0, 64, 64, null, 0, 64));
        }
        Path plain = dir.resolve("p.png");
        assertEquals(0, GenerateCommandTest.run(SdGenerateCommandTest.gen(plain, "--width", "64", "--height", "64"))
                .code());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(out)), "the net changed nothing");
    }

    @Test
    void controlNetWithAnInitImageIsRefusedWritingNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("x.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(SdGenerateCommandTest.gen(out, "--controlnet",
                NET.toString(), "--control-image", CONTROL.toString(), "--init-image", CONTROL.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("text-to-image only") && r.err().contains("--mask"), r.err());
        assertFalse(Files.exists(out));
    }
}
