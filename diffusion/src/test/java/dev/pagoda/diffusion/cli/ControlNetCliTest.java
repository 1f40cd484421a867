package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.gen;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.refused;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.golden.GoldenFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --controlnet ... --control-image ...} on the tiny golden models. */
class ControlNetCliTest {

    static final String NET = GoldenFixtures.vendored().model("tiny-sdxl-controlnet").toString();
    static final String CONTROL = GoldenFixtures.vendored().caseDir("sdxl_controlnet_cfg_pag").resolve("control.png")
            .toString();

    @Test
    void textToImageAndImageToImageWithControlNet(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("plain.png");
        Path cn = dir.resolve("cn.png");
        assertEquals(0, run(gen(plain)).code());
        GenerateCommandTest.Run r = run(gen(cn, "--controlnet", NET, "--control-image", CONTROL, "--control-scale", "0.8"));
        assertEquals(0, r.code(), r.err());
        assertFalse(Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(cn)), "the ControlNet changed nothing");
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(cn));
        assertTrue(text.get("controlnet").endsWith(CONTROL), text.toString());
        assertEquals("[0.8]", text.get("controlnet_conditioning_scale"));

        Path i2i = dir.resolve("i2i.png");
        r = run(gen(i2i, "--init-image", CONTROL, "--strength", "0.5", "--controlnet", NET, "--control-image", CONTROL,
                "--controlnet", NET, "--control-image", CONTROL, "--control-end", "0.5", "--guess-mode"));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(i2i) > 0);
    }

    @Test
    void badControlNetFlagsAreNamedErrorsAndWriteNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.png");
        refused(dir, 2, "1 --controlnet need as many --control-image (one per net, in order), got 0",
                gen(out, "--controlnet", NET));
        refused(dir, 2, "1 --controlnet need as many --control-image (one per net, in order), got 2",
                gen(out, "--controlnet", NET, "--control-image", CONTROL, "--control-image", CONTROL));
        refused(dir, 2, "--control-image needs --controlnet", gen(out, "--control-image", CONTROL));
        refused(dir, 2, "--control-start 0.6 and --control-end 0.4 must satisfy 0 <= start < end <= 1",
                gen(out, "--controlnet", NET, "--control-image", CONTROL, "--control-start", "0.6", "--control-end", "0.4"));
        refused(dir, 2, "--control-scale is given 2 times for 1 ControlNets",
                gen(out, "--controlnet", NET, "--control-image", CONTROL, "--control-scale", "1", "--control-scale", "2"));
        refused(dir, 2, "model folder /nope/cn not found", gen(out, "--controlnet", "/nope/cn", "--control-image", CONTROL));
        refused(dir, 1, dir.resolve("missing.png").toString(),
                gen(out, "--controlnet", NET, "--control-image", dir.resolve("missing.png").toString()));
    }
}
