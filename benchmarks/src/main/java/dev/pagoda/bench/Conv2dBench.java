package dev.pagoda.bench;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.CpuBackend;
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

/**
 * 3×3 convolution, stride 1, padding 1, C→C channels (or C→cout) with bias, batch 1, at the SDXL
 * UNet/VAE shapes ({@code CxHxW}), F32 or F16 weights, through the Winograd path or the implicit
 * GEMM ({@code -p winograd=true,false} times both side by side). GFLOP/s = 2·C·cout·9·H·W / time
 * (the measure of shared/bench/peers_torch.py; the direct conv's arithmetic, also for Winograd).
 * Below 256 channels {@code winograd=true} still takes the implicit GEMM, as the backend does;
 * {@code -jvmArgsAppend -Dpagoda.conv.winograd.minChannels=1} times Winograd there too.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Conv2dBench {

    /** Channels; with h and w one value each by default, other shapes by {@code -p}: {@code -p c=320 -p h=128 -p w=128}. */
    @Param({"640"})
    public int c;

    @Param({"64"})
    public int h;

    @Param({"64"})
    public int w;

    /** Output channels; 0 means {@code c} (e.g. {@code -p c=960 -p cout=640}). */
    @Param({"0"})
    public int cout;

    @Param({"true", "false"})
    public boolean winograd;

    @Param({"f32"})
    public String weights;

    @Param({"1", "2"})
    public int threads;

    private Tensor x;
    private Tensor weight;
    private Tensor bias;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        CpuBackend.setConvWinograd(winograd);
        int co = cout == 0 ? c : cout;
        Random rnd = new Random(42);
        x = GemmBench.random(rnd, 1, c, h, w);
        Tensor wt = GemmBench.random(rnd, co, c, 3, 3);
        weight = switch (weights) {
            case "f32" -> wt;
            case "f16" -> wt.to(DType.F16);
            default -> throw new IllegalArgumentException("weights must be f32 or f16, got " + weights);
        };
        bias = GemmBench.random(rnd, co);
    }

    @Benchmark
    public Tensor conv3x3() {
        return Backend.cpu().conv2d(x, weight, bias, 1, 1, 1);
    }
}
