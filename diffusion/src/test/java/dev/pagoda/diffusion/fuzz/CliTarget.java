package dev.pagoda.diffusion.fuzz;

import dev.pagoda.diffusion.cli.CliEntry;
import dev.pagoda.diffusion.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Command-line arguments of {@code pagoda generate} (and the top-level dispatch): options dropped,
 * repeated, reordered, given boundary numbers, empty or huge values, unknown names. The model is a
 * folder that does not exist or the working directory (no model in it), so no case loads weights or
 * writes an image. Input: the arguments joined by NUL.
 */
final class CliTarget implements FuzzTarget {

    private static final List<String> OPTIONS = List.of("--model", "--prompt", "--prompt-2", "--negative-prompt",
            "--steps", "--cfg", "--pag-scale", "--pag-adaptive-scale", "--pag-layers", "--guidance-rescale",
            "--seed", "--width", "--height", "--strength", "--scheduler", "--init-image", "--mask", "--out",
            "--backend", "--tiled-vae", "--variant", "--no-finite-check", "--no-memory-check", "--pag-strict",
            "--help", "--", "-", "--=", "--steps=3", "--bogus");
    private static final List<String> VALUES = List.of("", "0", "-1", "1", "8", "7", "1e9", "NaN", "Infinity",
            "-0", "0x10", "2147483647", "2147483648", "9223372036854775808", "euler", "ddim", "dpm++", "x,,y", ",",
            "mid", "down_blocks.[", "(", "cpu", "opencl", "opencl:9:9", "opencl:x", "\u0000", "é", "1,2");
    private static final List<List<String>> SEEDS = List.of(
            List.of("generate", "--model", "@M", "--prompt", "a cat", "--out", "@O"),
            List.of("generate", "--model", "@M", "--prompt", "a cat", "--steps", "4", "--cfg", "7", "--pag-scale",
                    "3", "--pag-layers", "mid,up_blocks.0", "--width", "64", "--height", "64", "--seed", "1",
                    "--out", "@O", "--no-memory-check"),
            List.of("generate", "--model", "", "--prompt", "x", "--init-image", "@I", "--mask", "@I",
                    "--strength", "0.5", "--scheduler", "euler_a", "--out", "@O", "--backend", "cpu"),
            List.of("--help"), List.of("generate", "--help"), List.of("devices"), List.of("conformance", "--help"));

    @Override
    public String name() {
        return "cli";
    }

    @Override
    public byte[] next(Random r) {
        List<String> a = new ArrayList<>(SEEDS.get(r.nextInt(SEEDS.size())));
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            int k = a.isEmpty() ? 0 : r.nextInt(a.size());
            switch (r.nextInt(6)) {
                case 0 -> {
                    if (!a.isEmpty()) {
                        a.remove(k);
                    }
                }
                case 1 -> a.add(k, OPTIONS.get(r.nextInt(OPTIONS.size())));
                case 2 -> {
                    if (!a.isEmpty()) {
                        a.set(k, VALUES.get(r.nextInt(VALUES.size())));
                    }
                }
                case 3 -> {
                    if (!a.isEmpty()) {
                        a.add(k, a.get(r.nextInt(a.size())));
                    }
                }
                case 4 -> a.add(k, "a".repeat(r.nextInt(3) == 0 ? 100_000 : 10));
                default -> {
                    if (a.size() > 1) {
                        java.util.Collections.swap(a, k, r.nextInt(a.size()));
                    }
                }
            }
        }
        return String.join("\u0000", a).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        String joined = new String(input, StandardCharsets.UTF_8);
        String[] argv = joined.isEmpty() ? new String[0] : joined.split("\u0000", -1);
        String image = ImageSeed.write(scratch).toString();
        for (int i = 0; i < argv.length; i++) {
            argv[i] = switch (argv[i]) {
                case "@M" -> scratch.resolve("no-such-model").toString();
                case "@O" -> scratch.resolve("out.png").toString();
                case "@I" -> image;
                default -> argv[i];
            };
        }
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        if (argv.length > 0 && argv[0].equals("generate")) {
            CliEntry.generate(argv, sink, sink);
        } else {
            int rc = Main.run(argv, sink, sink);
            if (rc < 0 || rc > 2) {
                throw new AssertionError("exit code " + rc + " for " + Arrays.toString(argv));
            }
        }
    }

    /** A small valid PNG for --init-image and --mask. */
    static final class ImageSeed {
        static Path write(Path dir) throws java.io.IOException {
            Path p = dir.resolve("init.png");
            if (!java.nio.file.Files.exists(p)) {
                javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(16, 16,
                        java.awt.image.BufferedImage.TYPE_INT_RGB), "png", p.toFile());
            }
            return p;
        }
    }
}
