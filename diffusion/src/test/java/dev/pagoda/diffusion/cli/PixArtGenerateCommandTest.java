package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate --model <PixArt folder>}: recognised from model_index.json, its own flags and errors. */
class PixArtGenerateCommandTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-pixart-sigma");

    static String[] gen(Path out, String... extra) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("generate", "--model", TINY.toString(),
                "--prompt", "A small cactus", "--steps", "2", "--seed", "5", "--out", out.toString()));
        a.addAll(java.util.List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void generatesAPixArtImageWithPagAndTheSameBytesTwice(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.png");
        Path b = dir.resolve("b.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(gen(a, "--no-resolution-binning", "--pag-layers", "blocks.1"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("encode prompt") && r.err().contains("denoise"), r.err());
        assertEquals(0, GenerateCommandTest.run(gen(b, "--no-resolution-binning")).code(), "default layers blocks.1");
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        String png = new String(Files.readAllBytes(a), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(png.contains("DPMSolverMultistepScheduler") && png.contains("max_sequence_length"), "tEXt chunks");
        Path c = dir.resolve("c.png");
        assertEquals(0, GenerateCommandTest.run(gen(c, "--no-resolution-binning", "--max-sequence-length", "20",
                "--pag-layers", "transformer_blocks.3")).code());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    @Test
    void flagsOfTheOtherFamilyAndBadSizesAreRefusedWritingNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("x.png");
        GenerateCommandTest.Run init = GenerateCommandTest.run(gen(out, "--init-image", "in.png"));
        assertEquals(2, init.code());
        assertTrue(init.err().contains("--init-image does not apply"), init.err());
        GenerateCommandTest.Run bins = GenerateCommandTest.run(gen(out));
        assertEquals(1, bins.code());
        assertTrue(bins.err().contains("no-resolution-binning"), bins.err());
        GenerateCommandTest.Run size = GenerateCommandTest.run(gen(out, "--no-resolution-binning", "--width", "120"));
        assertEquals(1, size.code());
        assertTrue(size.err().contains("multiples of 16"), size.err());
        GenerateCommandTest.Run layers = GenerateCommandTest.run(gen(out, "--no-resolution-binning", "--pag-layers", "mid"));
        assertEquals(1, layers.code());
        assertTrue(layers.err().contains("mid"), layers.err());
        GenerateCommandTest.Run sdxl = GenerateCommandTest.run(GenerateCommandTest.gen(out, "--max-sequence-length", "77"));
        assertEquals(2, sdxl.code());
        assertTrue(sdxl.err().contains("PixArt models only"), sdxl.err());
        assertFalse(Files.exists(out));
    }
}
