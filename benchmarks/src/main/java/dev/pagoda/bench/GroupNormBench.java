package dev.pagoda.bench;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * 32-group GroupNorm on the activation shapes of SDXL's UNet at 1024², batch 1 (the resolution
 * levels 128², 64², 32²), the same shapes as {@code peers_torch.py --only gnorm}. Rate for the
 * report: one read plus one write of the tensor, {@code 8·C·H·W} bytes, divided by the time.
 *
 * <p>{@link #outputAllocation} times the allocation of the output alone, the part of
 * {@link #groupNorm} that is not the kernel.
 *
 * <p>The shapes are one {@code CxHxW} parameter rather than three, so that JMH does not run the
 * 27-way cross product of separate c, h and w lists.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GroupNormBench {

    /** Channels; with h and w one value each by default, other shapes by {@code -p}: {@code -p c=640 -p h=64 -p w=64} and {@code -p c=1280 -p h=32 -p w=32}. */
    @Param({"320"})
    public int c;

    @Param({"128"})
    public int h;

    @Param({"128"})
    public int w;

    @Param({"1", "2"})
    public int threads;

    /** GroupNorm followed by SiLU in one pass, as in diffusers' ResnetBlock2D. */
    @Param({"false"})
    public boolean silu;

    private Tensor x;
    private Tensor gamma;
    private Tensor beta;

    @Setup(Level.Trial)
    public void setUp() {
        Random rng = new Random(42);
        x = Tensor.of(normal(rng, c * h * w), 1, c, h, w);
        gamma = Tensor.of(normal(rng, c), c);
        beta = Tensor.of(normal(rng, c), c);
        Parallel.setThreads(threads);
    }

    private static float[] normal(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    /**
     * Whether each call's output is released after use, as the UNet's resnets now do (and as torch
     * frees it when the Python reference goes), so the next call writes into the same array; false
     * measures a fresh, JVM-zeroed output per call.
     */
    @Param({"true", "false"})
    public boolean release;

    @Benchmark
    public void groupNorm(Blackhole bh) {
        Tensor y = Backend.cpu().groupNorm(x, 32, gamma, beta, 1e-5f, silu);
        bh.consume(y);
        if (release) {
            y.release();
        }
    }

    /**
     * What the op spends before its kernel runs: a new output array of the same size, which the JVM
     * zero-fills on the calling thread (torch reuses a cached block without clearing it).
     */
    @Benchmark
    public Tensor outputAllocation() {
        return Tensor.zeros(x.shape());
    }
}
