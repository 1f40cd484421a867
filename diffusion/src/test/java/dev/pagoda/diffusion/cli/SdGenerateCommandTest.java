package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.DiffusionPipeline;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdComponents;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGPipeline;
import dev.pagoda.nn.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --model <SD 1.5 folder>}, the AutoPipeline mapping, and named errors for bad folders. */
class SdGenerateCommandTest {

    static final Path TINY = Path.of("src/test/resources/sd15/models/tiny-sd15");

    static String[] gen(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("generate", "--model", TINY.toString(),
                "--prompt", "a red cube", "--steps", "2", "--seed", "5", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void generatesTextToImageAndImageToImage(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(gen(a, "--width", "96"));
        assertEquals(0, r.code(), r.err());
        String png = new String(Files.readAllBytes(a), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(png.contains("StableDiffusionPAGPipeline") && png.contains("PNDMScheduler"), "tEXt chunks");
        assertEquals("7.5", dev.pagoda.diffusion.image.PngWriter.readText(Files.readAllBytes(a)).get("guidance_scale"),
                "the default CFG scale must be diffusers' SD default");
        Path k = dir.resolve("karras.png");
        r = GenerateCommandTest.run(gen(k, "--width", "96", "--scheduler", "dpm++", "--karras"));
        assertEquals(0, r.code(), r.err()); // scheduler config overrides reach the SD pipeline too
        assertTrue(new String(Files.readAllBytes(k), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("DPMSolverMultistepScheduler"), "sampler in the tEXt chunks");
        Path b = dir.resolve("b.png");
        r = GenerateCommandTest.run(gen(b, "--init-image", "../golden/cases/sdxl_img2img_cfg_pag/input.png",
                "--strength", "0.6"));
        assertEquals(0, r.code(), r.err());
        png = new String(Files.readAllBytes(b), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(png.contains("StableDiffusionPAGImg2ImgPipeline"), "tEXt chunks");
    }

    @Test
    void sdxlOnlyFlagsAreRefusedWritingNothing(@TempDir Path dir) {
        Path out = dir.resolve("x.png");
        for (String[] extra : List.of(new String[] {"--prompt-2", "x"}, new String[] {"--lora", "x.safetensors"})) {
            GenerateCommandTest.Run r = GenerateCommandTest.run(gen(out, extra));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("does not apply to the Stable Diffusion 1.x/2.x"), r.err());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void autoPipelinePicksTheSdPipeline() {
        try (DiffusionPipeline p = AutoPipelineForText2Image.load(TINY, PipelineOptions.pag(List.of("down_blocks.0")))) {
            assertTrue(p instanceof StableDiffusionPAGPipeline sd && sd.pagEnabled(), p.getClass().getName());
            assertEquals(List.of("down_blocks.0"), p.pagAppliedLayers());
        }
    }

    @Test
    void aFolderWithoutItsTextEncoderIsANamedError(@TempDir Path dir) throws IOException {
        Path copy = dir.resolve("sd");
        try (Stream<Path> files = Files.walk(TINY)) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(TINY.relativize(f).toString());
                if (!f.toString().contains("text_encoder")) {
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to);
                    }
                }
            }
        }
        ConfigException e = assertThrows(ConfigException.class, () -> SdComponents.load(copy, false));
        assertTrue(e.getMessage().contains("text_encoder") && e.getMessage().contains("missing"), e.getMessage());
        Files.writeString(copy.resolve("model_index.json"), Files.readString(copy.resolve("model_index.json"))
                .replace("\"CLIPTextModel\"", "\"T5EncoderModel\""));
        e = assertThrows(ConfigException.class, () -> SdComponents.load(copy, false));
        assertTrue(e.getMessage().contains("\"text_encoder\" must be CLIPTextModel"), e.getMessage());
    }
}
