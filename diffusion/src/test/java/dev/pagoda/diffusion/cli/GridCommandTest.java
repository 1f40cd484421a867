package dev.pagoda.diffusion.cli;

import static dev.pagoda.diffusion.cli.GenerateCommandTest.TINY;
import static dev.pagoda.diffusion.cli.GenerateCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda grid} on the tiny SDXL model, and the pattern splitting it shares with {@code generate}. */
class GridCommandTest {

    @Test
    void gridIsCellsTimesImageSizePlusLabelsWithEveryCellInTheMetadata(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("grid.png");
        GenerateCommandTest.Run r = run("grid", "--model", TINY.toString(), "--prompt", "a cube", "--steps", "2",
                "--seed", "3", "--pag-scale", "0,1.5,3", "--pag-layers", "mid;down_blocks.{1,2}", "--cfg", "1,5",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        int labelTop = img.getHeight() - 4 * 128;
        int labelLeft = img.getWidth() - 3 * 128;
        assertEquals(22, labelTop, "one label line above the cells");
        assertTrue(labelLeft > 100 && labelLeft < 300, "row labels to the left: " + labelLeft);
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(out));
        String cells = text.get("cells");
        assertEquals(12, cells.split("\"row\"", -1).length - 1, cells);
        assertTrue(cells.contains("\"pag_applied_layers\":[\"down_blocks.{1,2}\"]"), cells);
        assertTrue(cells.contains("\"guidance_scale\":5.0,\"pag_scale\":1.5"), cells);
        // the cell at PAG 0 and the one at PAG 3 differ (the same seed, another scale)
        assertFalse(img.getRGB(labelLeft + 64, labelTop + 64) == img.getRGB(labelLeft + 2 * 128 + 64, labelTop + 64)
                && img.getRGB(labelLeft + 10, labelTop + 10) == img.getRGB(labelLeft + 2 * 128 + 10, labelTop + 10));
    }

    @Test
    void emptyAxisValuesAndUnknownLayersAreNamedErrorsAndWriteNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("g.png");
        refused(dir, 2, "--pag-scale has an empty value", "--pag-scale", "0,,3");
        refused(dir, 2, "--cfg has an empty value", "--cfg", "5,");
        refused(dir, 2, "--pag-layers has an empty layer set", "--pag-layers", "mid;");
        refused(dir, 2, "--pag-scale values must be finite numbers >= 0, got \"x\"", "--pag-scale", "x");
        refused(dir, 1, "Cannot find PAG layer to set attention processor for: down_blocks.0",
                "--pag-layers", "mid;down_blocks.0");
        assertFalse(Files.exists(out));
    }

    @Test
    void layerPatternsSplitAtCommasOutsideBraces() {
        assertEquals(List.of("mid", "down_blocks.2"), LayerPatterns.split("mid, down_blocks.2"));
        assertEquals(List.of("down_blocks.{1,2}", "up.block_[0,1]"), LayerPatterns.split("down_blocks.{1,2},up.block_[0,1]"));
        assertEquals(List.of("a\\,b", "c"), LayerPatterns.split("a\\,b,c"));
        assertEquals(List.of(), LayerPatterns.split(" , "));
    }

    private static void refused(Path dir, int code, String message, String... extra) throws IOException {
        List<String> a = new java.util.ArrayList<>(List.of("grid", "--model", TINY.toString(), "--prompt", "x",
                "--steps", "1", "--out", dir.resolve("g.png").toString()));
        a.addAll(List.of(extra));
        GenerateCommandTest.refused(dir, code, message, a.toArray(String[]::new));
    }
}
