package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.gen;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.refused;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.cli.GenerateCommandTest.Run;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.golden.GoldenFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --ip-adapter} on the golden tiny IP-Adapter plus model, and the inputs it refuses. */
class IpAdapterCliTest {

    static final Path IP = GoldenFixtures.vendored().model("tiny-ip-adapter");
    static final Path WEIGHTS = IP.resolve("sdxl_models/ip-adapter-plus_sdxl_tiny.safetensors");
    static final Path ENCODER = IP.resolve("models/image_encoder");
    static final Path IMAGE = GoldenFixtures.vendored().caseDir("sdxl_ip_adapter_plus_cfg_pag").resolve("ip_image.png");

    @Test
    void writesAPngThatTheAdapterChangesAndScaleZeroLeavesAsWithout(@TempDir Path dir) throws IOException {
        Path with = dir.resolve("with.png");
        Run r = run(gen(with, "--ip-adapter", WEIGHTS + ":0.7", "--ip-adapter-image", IMAGE.toString(),
                "--negative-prompt", "ugly"));
        assertEquals(0, r.code(), r.err());
        assertEquals(128, ImageIO.read(with.toFile()).getWidth());
        assertEquals(WEIGHTS + ":0.7", PngWriter.readText(Files.readAllBytes(with)).get("ip_adapters"));

        Path without = dir.resolve("without.png");
        assertEquals(0, run(gen(without, "--negative-prompt", "ugly")).code());
        assertFalse(Arrays.equals(pixels(with), pixels(without)), "the adapter did not change the image");

        // explicit encoder folder, --ip-image alias and --ip-scale 0: exactly the adapter-free pixels
        Path zero = dir.resolve("zero.png");
        r = run(gen(zero, "--ip-adapter", WEIGHTS.toString(), "--ip-image", IMAGE.toString(), "--ip-scale", "0",
                "--image-encoder", ENCODER.toString(), "--negative-prompt", "ugly"));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(pixels(without), pixels(zero));
    }

    @Test
    void twoAdaptersTakeTwoImages(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("two.png");
        Run r = run(gen(out, "--ip-adapter", WEIGHTS + ":0.5", "--ip-adapter-image", IMAGE.toString(),
                "--ip-adapter", WEIGHTS + ":0.3", "--ip-adapter-image", IMAGE.toString()));
        assertEquals(0, r.code(), r.err());
        assertEquals(WEIGHTS + ":0.5;" + WEIGHTS + ":0.3", PngWriter.readText(Files.readAllBytes(out)).get("ip_adapters"));
    }

    @Test
    void badInputsAreNamedAndWriteNothing(@TempDir Path dir) throws IOException {
        Path in = Files.createDirectory(dir.resolve("in"));
        Path outDir = Files.createDirectory(dir.resolve("out"));
        Path out = outDir.resolve("o.png");
        Path empty = Files.createFile(in.resolve("empty.png"));
        Path garbage = Files.write(in.resolve("garbage.png"), "not an image at all".getBytes());
        String img = IMAGE.toString();
        String w = WEIGHTS.toString();

        refused(outDir, 2, "IP-Adapter file /nope/ip.safetensors not found",
                gen(out, "--ip-adapter", "/nope/ip.safetensors", "--ip-adapter-image", img));
        refused(outDir, 2, "--ip-adapter-image must be given once per --ip-adapter: got 1 image(s) for 2 adapter(s)",
                gen(out, "--ip-adapter", w, "--ip-adapter", w, "--ip-adapter-image", img));
        refused(outDir, 2, "got 0 image(s) for 1 adapter(s)", gen(out, "--ip-adapter", w));
        refused(outDir, 2, "--ip-adapter-image needs --ip-adapter", gen(out, "--ip-adapter-image", img));
        refused(outDir, 2, "image encoder folder " + in + " has no config.json",
                gen(out, "--ip-adapter", w, "--ip-adapter-image", img, "--image-encoder", in.toString()));
        refused(outDir, 1, "/nope/face.png", gen(out, "--ip-adapter", w, "--ip-adapter-image", "/nope/face.png"));
        refused(outDir, 1, empty.toString(), gen(out, "--ip-adapter", w, "--ip-adapter-image", empty.toString()));
        refused(outDir, 1, garbage + ": not a PNG or JPEG image",
                gen(out, "--ip-adapter", w, "--ip-adapter-image", garbage.toString()));
        // an adapter file that is not an IP-Adapter: its keys are named
        refused(outDir, 1, "image_proj", gen(out, "--ip-adapter",
                GenerateCommandTest.TINY.resolve("vae/diffusion_pytorch_model.safetensors").toString(),
                "--ip-adapter-image", img, "--image-encoder", ENCODER.toString()));
    }

    @Test
    void helpNamesTheFlags() {
        String help = run("generate", "--help").out();
        for (String f : new String[] {"--ip-adapter FILE[:S]", "--ip-adapter-image", "--ip-image", "--ip-scale",
                "--image-encoder"}) {
            assertTrue(help.contains(f), f);
        }
    }

    private static int[] pixels(Path png) throws IOException {
        var img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
