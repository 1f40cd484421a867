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

    @Test
    void loraFlagAppliesTheAdapterWithItsWeight(@TempDir Path dir) throws IOException {
        Path lora = dir.resolve("style.safetensors");
        String t = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q";
        dev.pagoda.tensor.Tensor down = dev.pagoda.tensor.Tensor.zeros(2, 32);
        dev.pagoda.tensor.Tensor up = dev.pagoda.tensor.Tensor.zeros(32, 2);
        for (int i = 0; i < 64; i++) {
            down.storage().setFloat(dev.pagoda.tensor.DType.F32, i, (float) Math.sin(i));
            up.storage().setFloat(dev.pagoda.tensor.DType.F32, i, (float) Math.cos(i));
        }
        dev.pagoda.tensor.safetensors.SafetensorsWriter.write(lora, Map.of(t + ".lora_down.weight", down,
                t + ".lora_up.weight", up));
        Path base = dir.resolve("base.png");
        Path zero = dir.resolve("zero.png");
        Path styled = dir.resolve("styled.png");
        assertEquals(0, GenerateCommandTest.run(GenerateCommandTest.gen(base)).code());
        GenerateCommandTest.Run r = GenerateCommandTest.run(GenerateCommandTest.gen(zero, "--lora", lora + ":0"));
        assertEquals(0, r.code(), r.err());
        r = GenerateCommandTest.run(GenerateCommandTest.gen(styled, "--lora", lora + ":0.8"));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(pixels(Files.readAllBytes(base)), pixels(Files.readAllBytes(zero)));
        assertTrue(!java.util.Arrays.equals(pixels(Files.readAllBytes(base)), pixels(Files.readAllBytes(styled))));
        assertEquals(lora + ":0.8", PngWriter.readText(Files.readAllBytes(styled)).get("loras"));

        Path out = dir.resolve("o.png");
        r = GenerateCommandTest.run(GenerateCommandTest.gen(out, "--lora", dir.resolve("none.safetensors") + ":0.5"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("LoRA file") && r.err().contains("none.safetensors"), r.err());
        dev.pagoda.tensor.safetensors.SafetensorsWriter.write(dir.resolve("wrong.safetensors"), Map.of(
                "lora_unet_no_such_layer.lora_down.weight", down, "lora_unet_no_such_layer.lora_up.weight", up));
        r = GenerateCommandTest.run(GenerateCommandTest.gen(out, "--lora", dir.resolve("wrong.safetensors").toString()));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("unet:no_such_layer"), r.err());
        assertTrue(!Files.exists(out), "an output file was written");
    }

    private static int[] pixels(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(png));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
