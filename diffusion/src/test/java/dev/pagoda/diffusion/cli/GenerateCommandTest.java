package dev.pagoda.diffusion.cli;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate} end to end on the tiny SDXL model, and every bad input it must refuse. */
class GenerateCommandTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] gen(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt", "a red cube",
                "--steps", "2", "--seed", "7", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static long pngCount(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void writesAPngWithParametersAndTheSameSeedGivesTheSameBytes(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.png");
        Path b = dir.resolve("b.png");
        Run r = run(gen(a));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("denoise") && r.err().contains("peak memory"), r.err());
        assertEquals(0, run(gen(b)).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        Map<String, String> text = PngWriter.readText(Files.readAllBytes(a));
        assertEquals("a red cube", text.get("prompt"));
        assertEquals("7", text.get("seed"));
        assertEquals("2", text.get("steps"));
        assertEquals("3.0", text.get("pag_scale"));
        assertEquals("mid", text.get("pag_applied_layers"));
        assertEquals("EulerDiscreteScheduler", text.get("sampler"));
        BufferedImage img = ImageIO.read(a.toFile());
        assertEquals(128, img.getWidth());
    }

    @Test
    void nonSquareSizes(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("wide.png");
        Run r = run(gen(out, "--width", "64", "--height", "96"));
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(64, img.getWidth());
        assertEquals(96, img.getHeight());
    }

    @Test
    void imageToImageAndInpaintingFromFiles(@TempDir Path dir) throws IOException {
        Path input = GoldenFixtures.vendored().caseDir("sdxl_inpaint_cfg_pag").resolve("input.png");
        Path mask = input.resolveSibling("mask.png");
        Run r = run(gen(dir.resolve("i2i.png"), "--init-image", input.toString(), "--strength", "0.5"));
        assertEquals(0, r.code(), r.err());
        r = run(gen(dir.resolve("inp.png"), "--init-image", input.toString(), "--mask", mask.toString()));
        assertEquals(0, r.code(), r.err());
        assertEquals("inpaint", PngWriter.readText(Files.readAllBytes(dir.resolve("inp.png"))).get("mode"));
    }

    /** Runs {@code args} expecting exit {@code code} with {@code message} on one line, no stack trace, and nothing in {@code dir}. */
    static void refused(Path dir, int code, String message, String... args) throws IOException {
        Run r = run(args);
        assertEquals(code, r.code(), r.err());
        String line = r.err().strip();
        assertTrue(line.contains(message), "expected \"" + message + "\" in: " + line);
        assertFalse(line.contains("\tat "), "a stack trace leaked: " + line);
        assertEquals(0, pngCount(dir), "an output file was written");
    }

    @Test
    void badInputsAreOneLineNamedErrorsAndWriteNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.png");
        refused(dir, 2, "model folder /nope/model not found",
                "generate", "--model", "/nope/model", "--prompt", "x", "--out", out.toString());
        refused(dir, 2, "multiples of 8", gen(out, "--width", "100"));
        refused(dir, 2, "--strength must be in (0, 1]",
                gen(out, "--init-image", TINY.resolve("x.png").toString(), "--strength", "0"));
        refused(dir, 2, "output directory", gen(dir.resolve("missing/o.png")));
        refused(dir, 2, "--prompt is required", "generate", "--model", TINY.toString());
        refused(dir, 2, "unknown option --frobnicate", gen(out, "--frobnicate", "1"));
        refused(dir, 1, "Cannot find PAG layer to set attention processor for: down_blocks.0",
                gen(out, "--pag-layers", "down_blocks.0"));
        refused(dir, 1, "http://127.0.0.1:9/in.png", gen(out, "--init-image", "http://127.0.0.1:9/in.png"));
    }

    @Test
    void maskOfAnotherSizeIsRefused(@TempDir Path dir) throws IOException {
        Path input = GoldenFixtures.vendored().caseDir("sdxl_inpaint_cfg_pag").resolve("input.png");
        Path work = Files.createDirectory(dir.resolve("in"));
        Path small = work.resolve("small.png");
        ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", small.toFile());
        Path outDir = Files.createDirectory(dir.resolve("out"));
        refused(outDir, 2, "mask size 64x64 differs from the image size 128x128",
                gen(outDir.resolve("o.png"), "--init-image", input.toString(), "--mask", small.toString()));
    }

    @Test
    void unknownPipelineClassInModelIndexIsNamed(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model");
        copyTree(TINY, model);
        Path index = model.resolve("model_index.json");
        Files.writeString(index, Files.readString(index).replace("StableDiffusionXLPipeline", "FluxPipeline"));
        Path outDir = Files.createDirectory(dir.resolve("out"));
        refused(outDir, 1, "unsupported pipeline class \"FluxPipeline\"",
                "generate", "--model", model.toString(), "--prompt", "x", "--out", outDir.resolve("o.png").toString());
    }

    @Test
    void helpListsTheCommandsAndEveryFlag() {
        Run top = run("--help");
        assertEquals(0, top.code());
        assertTrue(top.out().contains("generate") && top.out().contains("conformance"));
        Run g = run("generate", "--help");
        for (String flag : List.of("--model", "--prompt", "--negative-prompt", "--steps", "--cfg", "--pag-scale",
                "--pag-layers", "--pag-adaptive-scale", "--seed", "--width", "--height", "--init-image", "--strength",
                "--mask", "--scheduler", "--out")) {
            assertTrue(g.out().contains(flag), flag);
        }
        assertEquals(2, run("frobnicate").code());
    }

    @Test
    void theVariantIsNoneByDefaultAsInDiffusersAndFp16OnRequest(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model");
        copyTree(TINY, model);
        // an fp16 UNet beside the float32 one: the same weights rounded, so the images differ
        Path unet = model.resolve("unet");
        try (dev.pagoda.tensor.safetensors.SafetensorsFile f = dev.pagoda.tensor.safetensors.SafetensorsFile.open(
                unet.resolve("diffusion_pytorch_model.safetensors"))) {
            Map<String, dev.pagoda.tensor.Tensor> half = new java.util.TreeMap<>();
            for (String k : f.names()) {
                half.put(k, f.tensor(k).to(dev.pagoda.tensor.DType.F16));
            }
            dev.pagoda.tensor.safetensors.SafetensorsWriter.write(unet.resolve("diffusion_pytorch_model.fp16.safetensors"),
                    half);
        }
        Path folder = dir.resolve("folder.png");
        Path plain = dir.resolve("plain.png");
        Path fp16 = dir.resolve("fp16.png");
        assertEquals(0, run(gen(folder)).code());
        String[] args = gen(plain);
        args[2] = model.toString();
        assertEquals(0, run(args).code());
        assertArrayEquals(pixels(folder), pixels(plain), "default must load the float32 files");
        args = gen(fp16, "--variant", "fp16");
        args[2] = model.toString();
        Run r = run(args);
        assertEquals(0, r.code(), r.err());
        assertFalse(java.util.Arrays.equals(pixels(plain), pixels(fp16)), "--variant fp16 must load the fp16 UNet");
        Path outDir = Files.createDirectories(dir.resolve("refused"));
        args = gen(outDir.resolve("o.png"), "--variant", "bf16");
        refused(outDir, 2, "--variant must be fp16", args);
    }

    static int[] pixels(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
