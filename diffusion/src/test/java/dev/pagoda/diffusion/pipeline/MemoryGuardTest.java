package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pre-load memory estimate against forced small limits. */
class MemoryGuardTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");

    @Test
    void estimateCountsTheWeightFilesAndGrowsWithSizeAndBatch() throws Exception {
        long files = 0;
        for (String f : new String[] {"text_encoder/model.safetensors", "text_encoder_2/model.safetensors",
                "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors"}) {
            files += Files.size(TINY.resolve(f));
        }
        MemoryGuard.Estimate e = MemoryGuard.estimate(TINY, new MemoryGuard.Request(64, 64, 3, true, false));
        assertEquals(files, e.weightBytes());
        MemoryGuard.Estimate big = MemoryGuard.estimate(TINY, new MemoryGuard.Request(1024, 1024, 3, true, false));
        assertTrue(big.activationBytes() > 200 * e.activationBytes(), big + " vs " + e);
        // tiling bounds the VAE's share: the tiny VAE's tile is its sample size
        MemoryGuard.Estimate tiled = MemoryGuard.estimate(TINY, new MemoryGuard.Request(1024, 1024, 3, true, true));
        assertTrue(tiled.activationBytes() < big.activationBytes(), tiled + " vs " + big);
    }

    @Test
    void tooSmallAHeapIsRefusedWithWhatWouldFit() {
        MemoryGuard.Request req = new MemoryGuard.Request(1024, 1024, 3, true, false);
        MemoryGuard.Estimate need = MemoryGuard.estimate(TINY, req);
        MemoryGuard.Estimate tiled = MemoryGuard.estimate(TINY, new MemoryGuard.Request(1024, 1024, 3, true, true));
        long heap = (need.activationBytes() + tiled.activationBytes()) / 2;
        MemoryGuard.Budget budget = new MemoryGuard.Budget(heap, 1L << 40);
        InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                () -> MemoryGuard.check(TINY, req, budget));
        assertTrue(e.getMessage().contains("does not fit") && e.getMessage().contains("would fit: --tiled-vae"),
                e.getMessage());
        // with tiling on already, only a smaller size helps
        long tinyHeap = tiled.activationBytes() / 4;
        e = assertThrows(InsufficientMemoryException.class, () -> MemoryGuard.check(TINY,
                new MemoryGuard.Request(1024, 1024, 3, true, true), new MemoryGuard.Budget(tinyHeap, 1L << 40)));
        assertTrue(e.getMessage().contains("would fit: --width "), e.getMessage());
        // RAM too small for the weights themselves: nothing fits
        e = assertThrows(InsufficientMemoryException.class, () -> MemoryGuard.check(TINY,
                new MemoryGuard.Request(64, 64, 1, true, true), new MemoryGuard.Budget(1L << 40, 1000)));
        assertTrue(e.getMessage().contains("no smaller setting fits"), e.getMessage());
        assertDoesNotThrow(() -> MemoryGuard.check(TINY, req, new MemoryGuard.Budget(1L << 40, 1L << 40)));
    }

    @Test
    void cliChecksBeforeLoadingUnderAForcedLimit(@TempDir Path dir) throws Exception {
        String old = System.getProperty("pagoda.memory.heap");
        System.setProperty("pagoda.memory.heap", "1m");
        try {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            String[] args = {"generate", "--model", TINY.toString(), "--prompt", "a cube", "--steps", "1",
                    "--width", "512", "--height", "512", "--out", dir.resolve("x.png").toString()};
            int code = Main.run(args, new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String msg = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, code, msg);
            assertTrue(msg.contains("does not fit") && msg.contains("would fit") && !msg.contains("load "), msg);
            assertTrue(!Files.exists(dir.resolve("x.png")));
        } finally {
            if (old == null) {
                System.clearProperty("pagoda.memory.heap");
            } else {
                System.setProperty("pagoda.memory.heap", old);
            }
        }
    }
}
