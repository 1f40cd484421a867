package dev.pagoda.bench;

import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.t5.T5EncoderModel;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Encodes one 300-token prompt (PixArt-Σ's {@code max_sequence_length}) with the real-size T5 v1.1
 * XXL encoder of PixArt-Σ ({@code benchmarks/configs/pixart-sigma-xl-2-1024-ms/text_encoder}, 4.76 B
 * parameters) and prints the time and the peak RSS. The random BF16 weights (9.5 GB) are streamed
 * to a temporary safetensors file and then memory-mapped through {@link T5EncoderModel#fromPretrained},
 * exactly as real weights would be, so they are never on the Java heap; the file is deleted at the
 * end unless {@code --keep}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx4g -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.T5EncoderBench [--dir /tmp] [--reps 1] [--keep]
 * </pre>
 */
public final class T5EncoderBench {

    private static final int LENGTH = 300;

    private T5EncoderBench() {
    }

    public static void main(String[] args) throws IOException {
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "1"));
        Path base = Path.of(RealSizeModels.arg(args, "dir", System.getProperty("java.io.tmpdir")));
        boolean keep = List.of(args).contains("--keep");
        Path config = RealSizeModels.config("pixart-sigma-xl-2-1024-ms", "text_encoder");
        Path folder = base.resolve("pagoda-t5-xxl-bf16");
        Files.createDirectories(folder);
        Files.copy(config, folder.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path weights = folder.resolve("model.safetensors");
        T5EncoderModel shape = T5EncoderModel.fromConfig(config);
        long t0 = System.nanoTime();
        long bytes = writeRandomBf16(weights, shape.namedParameters(), 1234);
        System.err.printf("random BF16 weights: %,d parameters, %.2f GB written in %.1f s%n", shape.parameterCount(),
                bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        try (T5EncoderModel te = T5EncoderModel.fromPretrained(folder)) {
            SplittableRandom rng = new SplittableRandom(7);
            long[] ids = new long[LENGTH];
            long[] mask = new long[LENGTH];
            for (int i = 0; i < LENGTH; i++) {
                ids[i] = i == LENGTH - 1 ? 1 : 3 + rng.nextInt(32000); // a full prompt ending in </s>
                mask[i] = 1;
            }
            for (int r = 0; r < reps; r++) {
                long s = System.nanoTime();
                Tensor out = te.forward(Tensor.ofLongs(ids, 1, LENGTH), Tensor.ofLongs(mask, 1, LENGTH));
                double sec = (System.nanoTime() - s) / 1e9;
                System.out.printf("T5EncoderBench threads=%d: T5-XXL encode of %d tokens %.2f s, peak RSS %.2f GiB "
                        + "(%s, first value %.4f)%n", Parallel.threads(), LENGTH, sec, RealSizeModels.peakRssGiB(),
                        out, out.getFloat(0, 0, 0));
            }
        } finally {
            if (!keep) {
                Files.deleteIfExists(weights);
                Files.deleteIfExists(folder.resolve("config.json"));
                Files.deleteIfExists(folder);
            }
        }
        System.out.printf("after close: peak RSS %.2f GiB%n", RealSizeModels.peakRssGiB());
    }

    /**
     * Streams a safetensors file of BF16 tensors with the parameters' names and shapes, filled as
     * {@code WeightLoader.randomize} fills them (U(-1/√fan-in, 1/√fan-in); norm scales near 1),
     * without holding more than one chunk per thread in memory. Reuses an existing file of the
     * right size (written by an earlier {@code --keep} run).
     */
    static long writeRandomBf16(Path file, Map<String, Parameter> params, long seed) throws IOException {
        List<String> names = new ArrayList<>(params.keySet());
        names.sort((a, b) -> java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8),
                b.getBytes(StandardCharsets.UTF_8)));
        StringBuilder h = new StringBuilder("{");
        long[] offsets = new long[names.size() + 1];
        for (int i = 0; i < names.size(); i++) {
            int[] shape = params.get(names.get(i)).shape();
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            offsets[i + 1] = offsets[i] + 2 * n;
            h.append(i == 0 ? "" : ",").append(Json.quote(names.get(i))).append(":{\"dtype\":\"BF16\",\"shape\":")
                    .append(java.util.Arrays.toString(shape).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(offsets[i]).append(',').append(offsets[i + 1]).append("]}");
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) {
            h.append(' ');
        }
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + header.length;
        long total = dataStart + offsets[names.size()];
        if (Files.isRegularFile(file) && Files.size(file) == total) {
            return total;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            ch.write(prefix, 0);
            ch.write(ByteBuffer.wrap(header), 8);
            IntStream.range(0, names.size()).parallel().forEach(i -> {
                String name = names.get(i);
                int[] shape = params.get(name).shape();
                boolean vector = shape.length == 1;
                boolean normScale = vector && name.endsWith(".weight");
                long fanIn = 1;
                for (int d = 1; d < shape.length; d++) {
                    fanIn *= shape[d];
                }
                float a = vector ? 0.02f : (float) (1.0 / Math.sqrt(Math.max(1, fanIn)));
                SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + i);
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
                long pos = dataStart + offsets[i];
                long end = dataStart + offsets[i + 1];
                try {
                    while (pos < end) {
                        buf.clear();
                        int n = (int) Math.min(buf.capacity() / 2, (end - pos) / 2);
                        for (int j = 0; j < n; j++) {
                            float v = (float) (rng.nextDouble() * 2 - 1) * a;
                            buf.putShort(bf16(normScale ? 1f + v : v));
                        }
                        buf.flip();
                        while (buf.hasRemaining()) {
                            pos += ch.write(buf, pos);
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(file + ": cannot write random weights", e);
                }
            });
        }
        return total;
    }

    /** float32 → bfloat16, round to nearest even (finite inputs). */
    private static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
