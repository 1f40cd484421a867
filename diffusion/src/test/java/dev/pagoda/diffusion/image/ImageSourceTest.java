package dev.pagoda.diffusion.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression tests for inputs the fuzz suite found. */
class ImageSourceTest {

    private static byte[] png(int w, int h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    @Test
    void aSmallValidPngLoads(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("a.png");
        Files.write(p, png(24, 16));
        BufferedImage img = ImageSource.load(p.toString());
        assertEquals(24, img.getWidth());
        assertEquals(16, img.getHeight());
    }

    /** A 100-byte PNG whose IHDR claims 2^24 x 16 pixels: refused from the header, no raster allocated. */
    @Test
    void aHeaderClaimingAHugeImageIsRefusedBeforeDecoding(@TempDir Path dir) throws Exception {
        byte[] b = png(8, 8);
        int w = 1 << 24;
        b[16] = (byte) (w >>> 24);
        b[17] = (byte) (w >>> 16);
        b[18] = (byte) (w >>> 8);
        b[19] = (byte) w;
        b[23] = 16;
        Path p = dir.resolve("bomb.png");
        Files.write(p, b);
        ImageException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(ImageException.class, () -> ImageSource.load(p.toString())));
        assertTrue(e.getMessage().contains("16777216x16") && e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void bytesThatAreNoImageAreNamed(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("x.png");
        Files.writeString(p, "not an image");
        ImageException e = assertThrows(ImageException.class, () -> ImageSource.load(p.toString()));
        assertTrue(e.getMessage().contains("not a PNG or JPEG"), e.getMessage());
    }
}
