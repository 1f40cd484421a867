package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks, before an SDXL folder is loaded, that a run fits: the weights (memory-mapped in their stored
 * dtype, so they need RAM but not heap) plus the activations of the requested size and batch (float32
 * on the heap) against the heap limit and the physical RAM. When they do not fit, the error says by
 * how much and which change would fit (the fp16 variant, tiled VAE, a smaller size).
 *
 * <p>The activation figure is an estimate from the configs, not a measurement: per batch row, the
 * UNet's skip connections plus a transformer working set of 14 channel-sized tensors at its largest
 * level (flash attention never holds the score matrix), and the VAE decoder's full-resolution working
 * set of six {@code block_out_channels[0]}-sized tensors (per tile when tiled).
 */
public final class MemoryGuard {

    private static final String[] PARTS = {"text_encoder", "text_encoder_2", "unet", "vae"};

    private MemoryGuard() {
    }

    /**
     * What a run asks for.
     *
     * @param vaeTile the VAE tile edge in pixels when tiled (0: the VAE config's {@code sample_size}, diffusers'
     *                default)
     */
    public record Request(int height, int width, int batchRows, boolean preferFp16, boolean tiledVae, int vaeTile) {
        public Request(int height, int width, int batchRows, boolean preferFp16, boolean tiledVae) {
            this(height, width, batchRows, preferFp16, tiledVae, 0);
        }
    }

    /** Memory limits: heap the JVM may still allocate, physical RAM. */
    public record Budget(long heapBytes, long ramBytes) {

        /**
         * This JVM's limits: the max heap less what is in use, and MemTotal of /proc/meminfo (or the
         * max heap where that is unknown). The properties {@code pagoda.memory.heap} and
         * {@code pagoda.memory.ram} (bytes, or with a k/m/g suffix) impose smaller limits.
         */
        public static Budget current() {
            Runtime rt = Runtime.getRuntime();
            long heap = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            long ram = physicalRam();
            if (ram <= 0) {
                ram = rt.maxMemory();
            }
            return new Budget(limit("pagoda.memory.heap", heap), limit("pagoda.memory.ram", ram));
        }

        private static long limit(String property, long actual) {
            String v = System.getProperty(property);
            return v == null || v.isBlank() ? actual : Math.min(actual, parseBytes(property, v.trim()));
        }
    }

    /** The estimate for a request. */
    public record Estimate(long weightBytes, long activationBytes) {
        public long peakBytes() {
            return weightBytes + activationBytes;
        }

        boolean fits(Budget b) {
            return activationBytes <= b.heapBytes() && peakBytes() <= b.ramBytes();
        }
    }

    /** The estimate for running {@code request} with the SDXL folder {@code modelDir}. */
    public static Estimate estimate(Path modelDir, Request request) {
        long weights = 0;
        for (String part : parts(modelDir)) {
            Path folder = modelDir.resolve(part);
            String stem = part.startsWith("text_encoder") ? "model" : "diffusion_pytorch_model";
            weights += weightBytes(WeightFiles.find(folder, stem, request.preferFp16()));
        }
        UNetConfig unet = UNetConfig.from(JsonConfig.read(modelDir.resolve("unet/config.json")));
        JsonConfig vae = JsonConfig.read(modelDir.resolve("vae/config.json"));
        int[] vaeChannels = vae.ints("block_out_channels");
        int scale = 1 << (vaeChannels.length - 1);
        int tile = request.vaeTile() > 0 ? request.vaeTile() : vae.integer("sample_size", 1024);
        long h = request.height();
        long w = request.width();
        long unetFloats = request.batchRows() * unetFloatsPerRow(unet, h / scale, w / scale);
        long th = request.tiledVae() ? Math.min(h, tile) : h;
        long tw = request.tiledVae() ? Math.min(w, tile) : w;
        long vaeFloats = 6L * vaeChannels[0] * th * tw + 3L * h * w;
        return new Estimate(weights, 4L * Math.max(unetFloats, vaeFloats));
    }

    private static long unetFloatsPerRow(UNetConfig c, long h, long w) {
        int[] ch = c.blockOutChannels();
        long skips = ch[0] * h * w;
        long largest = 0;
        long lh = h;
        long lw = w;
        for (int i = 0; i < ch.length; i++) {
            long level = ch[i] * lh * lw;
            largest = Math.max(largest, level);
            skips += c.layersPerBlock()[i] * level;
            if (i < ch.length - 1) {
                lh = (lh + 1) / 2;
                lw = (lw + 1) / 2;
                skips += ch[i] * lh * lw;
            }
        }
        return skips + 14 * largest;
    }

    /**
     * Throws when {@code request} does not fit {@code budget}.
     *
     * @throws InsufficientMemoryException with the figures and the change that would fit
     */
    public static void check(Path modelDir, Request request, Budget budget) {
        Estimate e = estimate(modelDir, request);
        if (e.fits(budget)) {
            return;
        }
        StringBuilder msg = new StringBuilder(String.format(
                "%s at %dx%d (batch %d): estimated peak %s (weights %s in their stored dtype, activations %s) "
                        + "does not fit: heap available %s, RAM %s",
                modelDir, request.width(), request.height(), request.batchRows(), gib(e.peakBytes()),
                gib(e.weightBytes()), gib(e.activationBytes()), gib(budget.heapBytes()), gib(budget.ramBytes())));
        String fix = suggestion(modelDir, request, budget);
        msg.append(fix == null ? "; no smaller setting fits either (use a machine with more memory, or a larger -Xmx "
                + "/ PAGODA_HEAP)" : "; would fit: " + fix);
        throw new InsufficientMemoryException(msg.toString(), e);
    }

    /** The first change (fp16 variant, tiled VAE, both, then a smaller size) that fits, or null. */
    static String suggestion(Path modelDir, Request r, Budget b) {
        List<Request> tries = new ArrayList<>();
        List<String> names = new ArrayList<>();
        boolean fp16Helps = !r.preferFp16() && hasFp16(modelDir);
        if (fp16Helps) {
            tries.add(new Request(r.height(), r.width(), r.batchRows(), true, r.tiledVae(), r.vaeTile()));
            names.add("the fp16 variant (--variant fp16)");
        }
        if (!r.tiledVae()) {
            tries.add(new Request(r.height(), r.width(), r.batchRows(), r.preferFp16(), true));
            names.add("--tiled-vae");
            if (fp16Helps) {
                tries.add(new Request(r.height(), r.width(), r.batchRows(), true, true));
                names.add("the fp16 variant and --tiled-vae");
            }
        }
        if (r.vaeTile() == 0 || r.vaeTile() > 512) {
            // SDXL's default tile is the whole 1024² image; a 512-px tile holds a quarter of its decoder activations
            tries.add(new Request(r.height(), r.width(), r.batchRows(), r.preferFp16(), true, 512));
            names.add("--vae-tile 512");
        }
        for (int i = 0; i < tries.size(); i++) {
            if (estimate(modelDir, tries.get(i)).fits(b)) {
                return names.get(i);
            }
        }
        int step = 64;
        boolean fp16 = r.preferFp16() || fp16Helps;
        for (double f = 0.875; f > 0.1; f -= 0.125) {
            int h = Math.max(step, (int) (r.height() * f) / step * step);
            int w = Math.max(step, (int) (r.width() * f) / step * step);
            Request smaller = new Request(h, w, r.batchRows(), fp16, true);
            if (estimate(modelDir, smaller).fits(b)) {
                return "--width " + w + " --height " + h + " --tiled-vae" + (fp16Helps ? " with the fp16 variant" : "");
            }
        }
        return null;
    }

    /** SD 1.x/2.x folders have one text encoder. */
    private static java.util.List<String> parts(Path modelDir) {
        java.util.List<String> all = java.util.List.of(PARTS);
        return SdComponents.isSdFolder(modelDir) ? all.stream().filter(p -> !p.equals("text_encoder_2")).toList() : all;
    }

    private static boolean hasFp16(Path modelDir) {
        for (String part : parts(modelDir)) {
            String stem = part.startsWith("text_encoder") ? "model" : "diffusion_pytorch_model";
            for (String name : WeightFiles.candidates(stem, true)) {
                if (name.contains("fp16") && Files.isRegularFile(modelDir.resolve(part).resolve(name))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Bytes of a weight file, or of every shard an index names. */
    private static long weightBytes(Path file) {
        try {
            if (!file.getFileName().toString().endsWith(".json")) {
                return Files.size(file);
            }
            Map<String, Object> index = Json.parseObject(Files.readString(file));
            Set<String> shards = new LinkedHashSet<>();
            if (index.get("weight_map") instanceof Map<?, ?> m) {
                m.values().forEach(v -> shards.add(String.valueOf(v)));
            }
            long total = 0;
            for (String s : shards) {
                Path shard = file.resolveSibling(s);
                if (Files.isRegularFile(shard)) {
                    total += Files.size(shard);
                }
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static long physicalRam() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            // unknown: the caller falls back to the heap limit
        }
        return -1;
    }

    static long parseBytes(String what, String v) {
        String s = v.toLowerCase(java.util.Locale.ROOT);
        long mul = 1;
        char last = s.charAt(s.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            mul = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(what + " must be a byte count (e.g. 512m, 8g), got \"" + v + "\"");
        }
    }

    private static String gib(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.2f GiB", bytes / (double) (1L << 30))
                : String.format("%.1f MiB", bytes / (double) (1L << 20));
    }
}
