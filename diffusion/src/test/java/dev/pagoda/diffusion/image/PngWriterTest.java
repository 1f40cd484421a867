package dev.pagoda.diffusion.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngWriterTest {

    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 255 / w) << 16 | (y * 255 / h) << 8 | 77);
            }
        }
        return img;
    }

    @Test
    void textChunksRoundTripAndTheFileIsReadable(@TempDir Path dir) throws Exception {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "a cat");
        text.put("seed", "42");
        Path out = dir.resolve("a.png");
        PngWriter.write(gradient(24, 16), text, out);
        byte[] bytes = Files.readAllBytes(out);
        assertEquals(text, PngWriter.readText(bytes));
        assertTrue(Files.isReadable(out));
        if (Files.getFileStore(out).supportsFileAttributeView("posix")) {
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(out)));
        }
        BufferedImage back = ImageIO.read(out.toFile());
        assertEquals(24, back.getWidth());
        assertEquals(16, back.getHeight());
        assertEquals(gradient(24, 16).getRGB(5, 7), back.getRGB(5, 7));
    }

    @Test
    void textOutsideLatin1RoundTripsThroughITxt(@TempDir Path dir) throws Exception {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "🐱 cat emoji 🚀🔥, 山の寺");
        text.put("negative_prompt", "café crème"); // Latin-1: stays tEXt
        Path out = dir.resolve("u.png");
        PngWriter.write(gradient(8, 8), text, out);
        byte[] bytes = Files.readAllBytes(out);
        assertEquals(text, PngWriter.readText(bytes));
        String raw = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(raw.contains("iTXtprompt") && raw.contains("tEXtnegative_prompt"), "chunk types");
        assertEquals(8, ImageIO.read(out.toFile()).getWidth()); // the iTXt chunk is well formed for a decoder
    }

    @Test
    void sameInputsGiveByteIdenticalFiles(@TempDir Path dir) throws Exception {
        Map<String, String> text = Map.of("prompt", "x");
        PngWriter.write(gradient(8, 8), text, dir.resolve("1.png"));
        PngWriter.write(gradient(8, 8), text, dir.resolve("2.png"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("1.png")), Files.readAllBytes(dir.resolve("2.png")));
    }

    @Test
    void missingDirectoryIsANamedErrorAndLeavesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("missing/out.png");
        ImageException e = assertThrows(ImageException.class, () -> PngWriter.write(gradient(4, 4), Map.of(), out));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void imageTensorRoundTripIsExactForEightBitValues() {
        BufferedImage img = gradient(16, 8);
        Tensor t = ImageTensors.toTensor(img);
        assertEquals(-1f, 2f * 0f - 1f);
        BufferedImage back = ImageTensors.toImage(t);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                assertEquals(img.getRGB(x, y) & 0xFFFFFF, back.getRGB(x, y) & 0xFFFFFF);
            }
        }
    }

    @Test
    void unreadableInputsAreNamedErrors(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.png");
        Files.writeString(bad, "not an image");
        assertTrue(assertThrows(ImageException.class, () -> ImageSource.load(bad.toString())).getMessage()
                .contains(bad.toString()));
        assertTrue(assertThrows(ImageException.class, () -> ImageSource.load(dir.resolve("none.png").toString()))
                .getMessage().contains("not found"));
        // nothing listens on port 9 of the loopback address: the connection is refused at once
        assertTrue(assertThrows(ImageException.class, () -> ImageSource.load("http://127.0.0.1:9/x.png"))
                .getMessage().contains("http://127.0.0.1:9/x.png"));
    }
}
