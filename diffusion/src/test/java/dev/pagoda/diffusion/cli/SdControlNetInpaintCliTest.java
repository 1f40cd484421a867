package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.ControlNetParams;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdPipelines;
import dev.pagoda.diffusion.pipeline.StableDiffusionControlNetPAGInpaintPipeline;
import dev.pagoda.nn.controlnet.ControlNetModel;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pagoda generate --model <SD 1.5 folder> --controlnet ... --init-image ... --mask ...}: diffusers'
 * {@code StableDiffusionControlNetPAGInpaintPipeline}, the Java API's pixels, and what it refuses.
 */
class SdControlNetInpaintCliTest {

    static final Path INIT = Path.of("src/test/resources/sd15cninpaint/init.png");
    static final Path MASK = Path.of("src/test/resources/sd15cninpaint/mask.png");

    static String[] inpaint(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of(SdGenerateCommandTest.gen(out, "--controlnet",
                SdControlNetCliTest.NET.toString(), "--control-image", SdControlNetCliTest.CONTROL.toString(),
                "--control-scale", "0.7", "--init-image", INIT.toString(), "--strength", "0.6")));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void controlNetInpaintingEqualsTheJavaApi(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("i.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(inpaint(out, "--mask", MASK.toString()));
        assertEquals(0, r.code(), r.err());
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(out));
        assertEquals("StableDiffusionControlNetPAGInpaintPipeline", text.get("pipeline"));
        assertEquals("inpaint", text.get("mode"));
        BufferedImage control = ImageSource.load(SdControlNetCliTest.CONTROL.toString());
        BufferedImage got = ImageIO.read(out.toFile());
        assertEquals(96, got.getWidth());
        assertEquals(64, got.getHeight());
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(SdGenerateCommandTest.TINY,
                PipelineOptions.pag(List.of("mid")).controlnet(ControlNetModel.fromPretrained(SdControlNetCliTest.NET,
                        false)))) {
            BufferedImage want = ImageTensors.toImage(pipe.generate(GenerationParams.builder("a red cube").steps(2)
                    .seed(5).guidanceScale(7.5f).size(64, 96).strength(0.6f)
                    .image(ImageTensors.toTensor(ImageSource.load(INIT.toString())))
                    .mask(ImageTensors.toMask(ImageSource.load(MASK.toString())))
                    .controlNet(new ControlNetParams(List.of(control), new float[] {0.7f}, null, null, false, true))
                    .build()).image());
            assertArrayEquals(want.getRGB(0, 0, 96, 64, null, 0, 96), got.getRGB(0, 0, 96, 64, null, 0, 96));
        }
        // without the inpainting inputs: the ControlNet text-to-image run of the same seed and size differs
        Path t2i = dir.resolve("t.png");
        assertEquals(0, GenerateCommandTest.run(SdGenerateCommandTest.gen(t2i, "--controlnet",
                SdControlNetCliTest.NET.toString(), "--control-image", SdControlNetCliTest.CONTROL.toString(),
                "--control-scale", "0.7", "--width", "96", "--height", "64")).code());
        BufferedImage plain = ImageIO.read(t2i.toFile());
        assertFalse(java.util.Arrays.equals(plain.getRGB(0, 0, 96, 64, null, 0, 96),
                got.getRGB(0, 0, 96, 64, null, 0, 96)), "the init image and mask changed nothing");
    }

    @Test
    void maskOfAnotherSizeIsANamedErrorWritingNothing(@TempDir Path dir) throws IOException {
        Path outDir = Files.createDirectories(dir.resolve("out"));
        // control64.png is 64x64, the init image 96x64
        GenerateCommandTest.refused(outDir, 2, "mask size 64x64 differs from the image size 96x64",
                inpaint(outDir.resolve("o.png"), "--mask", SdControlNetCliTest.CONTROL.toString()));
    }

    @Test
    void guessModeAndAMaskWithoutNetsAreRefusedWritingNothing(@TempDir Path dir) throws IOException {
        Path outDir = Files.createDirectories(dir.resolve("out"));
        GenerateCommandTest.refused(outDir, 2, "--guess-mode: diffusers' StableDiffusionControlNetPAGInpaintPipeline",
                inpaint(outDir.resolve("o.png"), "--mask", MASK.toString(), "--guess-mode"));
        GenerateCommandTest.refused(outDir, 2, "--mask does not apply",
                SdGenerateCommandTest.gen(outDir.resolve("o.png"), "--init-image", INIT.toString(), "--mask",
                        MASK.toString()));
    }
}
