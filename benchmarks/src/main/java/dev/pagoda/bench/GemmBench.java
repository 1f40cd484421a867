package dev.pagoda.bench;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code linear}: {@code x[m, k] · weight[n, k]ᵀ} at the SDXL UNet's GEMM shapes, with F32 or F16
 * weights (F16 in an off-heap segment, as mapped from safetensors). GFLOP/s = 2·m·k·n / time.
 * The defaults are the first SDXL shape; the others run with {@code -p m=1024 -p k=1280 -p n=1280},
 * {@code -p m=4096 -p k=640 -p n=5120}, {@code -p m=1024 -p k=5120 -p n=1280} (one value each, so
 * JMH does not run the cross product of m, k and n).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBench {

    @Param({"4096"})
    public int m;

    @Param({"640"})
    public int k;

    @Param({"640"})
    public int n;

    @Param({"f32", "f16"})
    public String weights;

    @Param({"1", "2"})
    public int threads;

    /**
     * Whether each call's output is released after use, as the UNet's blocks release their
     * intermediates, so the next call writes into the same array (numpy's allocator hands back the
     * freed block likewise); false measures a fresh, JVM-zeroed output per call.
     */
    @Param({"true", "false"})
    public boolean release;

    private Tensor x;
    private Tensor weight;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        Random rnd = new Random(42);
        x = random(rnd, m, k);
        Tensor w = random(rnd, n, k);
        weight = switch (weights) {
            case "f32" -> w;
            case "f16" -> w.to(DType.F16);
            default -> throw new IllegalArgumentException("weights must be f32 or f16, got " + weights);
        };
    }

    @Benchmark
    public void linear(Blackhole bh) {
        Tensor y = Backend.cpu().linear(x, weight, null);
        bh.consume(y);
        if (release) {
            y.release();
        }
    }

    static Tensor random(Random rnd, int... shape) {
        float[] v = new float[(int) Shapes.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, shape);
    }
}
