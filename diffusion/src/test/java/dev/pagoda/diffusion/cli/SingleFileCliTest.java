package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.singlefile.SgmCheckpoints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --model FILE.safetensors [--config DIR]} against the folder it was written from. */
class SingleFileCliTest {

    @Test
    void checkpointFileGivesTheFolderImage(@TempDir Path dir) throws IOException {
        Path ckpt = dir.resolve("tiny-single-file.safetensors");
        SgmCheckpoints.write(GenerateCommandTest.TINY, ckpt);
        Path fromFolder = dir.resolve("folder.png");
        Path fromFile = dir.resolve("file.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(GenerateCommandTest.gen(fromFolder));
        assertEquals(0, r.code(), r.err());
        String[] args = GenerateCommandTest.gen(fromFile, "--config", GenerateCommandTest.TINY.toString());
        args[2] = ckpt.toString();
        r = GenerateCommandTest.run(args);
        assertEquals(0, r.code(), r.err());

        byte[] a = Files.readAllBytes(fromFolder);
        byte[] b = Files.readAllBytes(fromFile);
        assertArrayEquals(pixels(a), pixels(b));
        // every parameter chunk is equal but the one naming the model given on the command line
        Map<String, String> ta = new HashMap<>(PngWriter.readText(a));
        Map<String, String> tb = new HashMap<>(PngWriter.readText(b));
        assertEquals(GenerateCommandTest.TINY.toString(), ta.remove("model"));
        assertEquals(ckpt.toString(), tb.remove("model"));
        assertEquals(ta, tb);
    }

    @Test
    void badCheckpointsAreNamedErrors(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.png");
        String[] missing = GenerateCommandTest.gen(out);
        missing[2] = dir.resolve("nope.safetensors").toString();
        GenerateCommandTest.Run r = GenerateCommandTest.run(missing);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("checkpoint file") && r.err().contains("nope.safetensors"), r.err());

        String[] component = GenerateCommandTest.gen(out);
        component[2] = GenerateCommandTest.TINY.resolve("unet/diffusion_pytorch_model.safetensors").toString();
        r = GenerateCommandTest.run(component);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("fit no known single-file checkpoint layout") && r.err().contains("SDXL base"), r.err());
        assertTrue(!Files.exists(out), "an output file was written");
    }

    private static int[] pixels(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(png));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
