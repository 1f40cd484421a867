package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.conformance.OpenClDevice;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pagoda generate --backend opencl} writes the image {@code --backend cpu} writes, within the
 * golden np tolerance (1e-4 of [0, 1], i.e. no 8-bit level may differ by more than one), and
 * {@code --help} documents the flag.
 */
class GenerateOnOpenClTest {

    @BeforeEach
    void device() {
        OpenClDevice.get();
    }

    @Test
    void theOpenClImageMatchesTheCpuImage(@TempDir Path dir) throws IOException {
        Path cpu = dir.resolve("cpu.png");
        Path ocl = dir.resolve("opencl.png");
        GenerateCommandTest.Run a = GenerateCommandTest.run(GenerateCommandTest.gen(cpu, "--backend", "cpu"));
        assertEquals(0, a.code(), a.err());
        GenerateCommandTest.Run b = GenerateCommandTest.run(GenerateCommandTest.gen(ocl, "--backend", "opencl"));
        assertEquals(0, b.code(), b.err());
        assertTrue(b.err().contains("peak device memory"), b.err());
        BufferedImage x = ImageIO.read(cpu.toFile());
        BufferedImage y = ImageIO.read(ocl.toFile());
        assertEquals(x.getWidth(), y.getWidth());
        int worst = 0;
        for (int r = 0; r < x.getHeight(); r++) {
            for (int c = 0; c < x.getWidth(); c++) {
                int p = x.getRGB(c, r);
                int q = y.getRGB(c, r);
                for (int shift = 0; shift < 24; shift += 8) {
                    worst = Math.max(worst, Math.abs(((p >> shift) & 255) - ((q >> shift) & 255)));
                }
            }
        }
        assertTrue(worst <= 1, "8-bit levels differ by up to " + worst);
    }

    @Test
    void helpDocumentsTheBackendAndABadBackendIsARuntimeError(@TempDir Path dir) {
        GenerateCommandTest.Run help = GenerateCommandTest.run("generate", "--help");
        assertTrue(help.out().contains("--backend B") && help.out().contains("opencl:P:D"), help.out());
        GenerateCommandTest.Run bad = GenerateCommandTest.run(GenerateCommandTest.gen(dir.resolve("x.png"), "--backend",
                "opencl:7:7"));
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("no OpenCL platform 7"), bad.err());
    }
}
