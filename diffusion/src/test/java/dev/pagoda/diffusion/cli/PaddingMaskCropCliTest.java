package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.TINY;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.pngCount;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --padding-mask-crop} of {@code pagoda generate}: the Java API's pixels, and named errors that write nothing. */
class PaddingMaskCropCliTest {

    static final Path INPUT = dev.pagoda.tensor.golden.GoldenFixtures.vendored().caseDir("sdxl_inpaint_cfg_pag")
            .resolve("input.png");

    static Path mask() throws Exception {
        return Path.of(PaddingMaskCropCliTest.class.getResource("/maskcrop/pipeline_mask.png").toURI());
    }

    static String[] gen(Path out, String... extra) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt",
                "a yellow sun in a clear blue sky", "--seed", "11", "--steps", "4", "--strength", "0.8",
                "--pag-layers", "mid", "--init-image", INPUT.toString(), "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void theCropGivesTheJavaApisPixels(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("c.png");
        GenerateCommandTest.Run r = run(gen(out, "--mask", mask().toString(), "--padding-mask-crop", "6"));
        assertEquals(0, r.code(), r.err());
        assertEquals("6", PngWriter.readText(Files.readAllBytes(out)).get("padding_mask_crop"));
        BufferedImage init = ImageSource.load(INPUT.toString());
        BufferedImage m = ImageSource.load(mask().toString());
        try (SdxlPipeline pipe = AutoPipelineForInpainting.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            BufferedImage want = ImageTensors.toImage(pipe.generate(GenerationParams.builder(
                    "a yellow sun in a clear blue sky").size(128, 128).steps(4).strength(0.8f).seed(11)
                    .paddingMaskCrop(6, init, m).build()).image());
            assertArrayEquals(pixels(want), pixels(ImageIO.read(out.toFile())));
        }
    }

    @Test
    void sdControlNetInpaintingTakesTheCropToo(@TempDir Path dir) throws Exception {
        Path res = Path.of(PaddingMaskCropCliTest.class.getResource("/sd15cninpaint/init.png").toURI()).getParent()
                .getParent();
        Path out = dir.resolve("sd.png");
        GenerateCommandTest.Run r = run("generate", "--model", res.resolve("sd15/models/tiny-sd15").toString(),
                "--prompt", "a red cube", "--seed", "5", "--steps", "3", "--strength", "0.75", "--pag-layers", "mid",
                "--controlnet", res.resolve("sd15controlnet/tiny-sd15-controlnet").toString(), "--control-image",
                res.resolve("sd15controlnet/control64.png").toString(), "--init-image",
                res.resolve("sd15cninpaint/init.png").toString(), "--mask", res.resolve("maskcrop/sd_cn_mask.png").toString(),
                "--padding-mask-crop", "4", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(96, img.getWidth());
        assertEquals(64, img.getHeight());
        assertEquals("4", PngWriter.readText(Files.readAllBytes(out)).get("padding_mask_crop"));
    }

    @Test
    void misuseIsAUsageErrorThatWritesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x.png");
        GenerateCommandTest.Run noMask = run(gen(out, "--padding-mask-crop", "6"));
        assertEquals(2, noMask.code());
        assertTrue(noMask.err().contains("--padding-mask-crop needs --init-image and --mask"), noMask.err());
        GenerateCommandTest.Run negative = run(gen(out, "--mask", mask().toString(), "--padding-mask-crop", "-3"));
        assertEquals(2, negative.code());
        assertTrue(negative.err().contains("--padding-mask-crop must be ≥ 0"), negative.err());
        Path black = dir.resolve("black.png");
        ImageIO.write(new BufferedImage(128, 128, BufferedImage.TYPE_BYTE_GRAY), "png", black.toFile());
        GenerateCommandTest.Run empty = run(gen(out, "--mask", black.toString(), "--padding-mask-crop", "6"));
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("all black"), empty.err());
        assertEquals(1, pngCount(dir), "only the test's own black mask may be there");
    }
}
