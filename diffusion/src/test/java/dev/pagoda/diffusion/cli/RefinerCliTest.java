package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pagoda generate --refiner DIR --high-noise-frac F}: base to denoising_end, refiner from
 * denoising_start, one PNG; checked against diffusers' ensemble on the tiny models
 * (src/test/resources/refiner/make_fixtures.py), and every bad refiner input refused before anything
 * is written.
 */
class RefinerCliTest {

    static final Path TINY = GenerateCommandTest.TINY;
    static final String PROMPT = "a photo of an astronaut riding a horse on mars";

    static Path refinerFolder(Path parent) throws Exception {
        return dev.pagoda.diffusion.pipeline.RefinerEnsembleTest.refinerFolder(parent);
    }

    static String[] gen(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt", PROMPT,
                "--steps", "10", "--seed", "0", "--cfg", "5", "--pag-scale", "3", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void ensembleOfExpertsMatchesDiffusersAndRecordsTheRefiner(@TempDir Path dir) throws Exception {
        Path refiner = refinerFolder(dir);
        Path out = dir.resolve("out.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(gen(out, "--refiner", refiner.toString(),
                "--high-noise-frac", "0.8"));
        assertEquals(0, r.code(), r.err());
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(out));
        assertEquals(refiner.toString(), text.get("refiner"));
        assertEquals("0.8", text.get("high_noise_frac"));
        BufferedImage img = ImageIO.read(out.toFile());
        Path fixture = Path.of(RefinerCliTest.class.getResource("/refiner/refiner.safetensors").toURI());
        try (SafetensorsFile ref = SafetensorsFile.open(fixture)) {
            // diffusers' refine.output.np (from its own base run, same seed), quantised as numpy_to_pil
            float[] np = ref.tensor("refine.output.np").toFloatArray();
            int h = img.getHeight();
            int w = img.getWidth();
            assertEquals(128 * 128 * 3, np.length);
            int worst = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    for (int c = 0; c < 3; c++) {
                        int got = (rgb >> (16 - 8 * c)) & 0xff;
                        int want = (int) Math.rint(np[(y * w + x) * 3 + c] * 255f);
                        worst = Math.max(worst, Math.abs(got - want));
                    }
                }
            }
            // output.np within 1e-4 can still round to the neighbouring 8-bit level
            assertTrue(worst <= 1, "PNG differs from diffusers' ensemble by " + worst + " levels");
        }
    }

    @Test
    void badRefinerInputsWriteNothing(@TempDir Path dir) throws Exception {
        Path refiner = refinerFolder(dir);
        Path mismatch = Files.createDirectories(dir.resolve("mismatch"));
        Files.copy(refiner.resolve("model_index.json"), mismatch.resolve("model_index.json"));
        // a base UNet (6 time ids) in a refiner folder
        Files.createSymbolicLink(mismatch.resolve("unet"), TINY.resolve("unet").toAbsolutePath());
        Files.createSymbolicLink(mismatch.resolve("text_encoder_2"), TINY.resolve("text_encoder_2").toAbsolutePath());
        Path outDir = Files.createDirectories(dir.resolve("out"));
        Path out = outDir.resolve("x.png");
        String[][] cases = {
            {"--refiner", dir.resolve("nope").toString()},
            {"--refiner", TINY.toString()},
            {"--refiner", mismatch.toString()},
            {"--refiner", refiner.toString(), "--high-noise-frac", "0"},
            {"--refiner", refiner.toString(), "--high-noise-frac", "1"},
            {"--refiner", refiner.toString(), "--high-noise-frac", "1.5"},
            {"--refiner", refiner.toString(), "--high-noise-frac", "abc"},
            {"--high-noise-frac", "0.8"},
            {"--refiner", refiner.toString(), "--init-image",
                TINY.resolve("../../cases/sdxl_img2img_cfg_pag/input.png").normalize().toString()},
        };
        String[] expect = {"not found", "not an SDXL refiner", "5 time ids", "(0, 1)", "(0, 1)", "(0, 1)",
            "must be a number", "needs --refiner", "does not combine with --init-image"};
        for (int i = 0; i < cases.length; i++) {
            GenerateCommandTest.Run r = GenerateCommandTest.run(gen(out, cases[i]));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(expect[i]), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(0, GenerateCommandTest.pngCount(outDir), "wrote a file for " + String.join(" ", cases[i]));
        }
    }
}
