package dev.pagoda.bench;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.SplittableRandom;
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
 * Self-attention of one batch row, {@code softmax(q·kᵀ/√D)·v} over {@code heads} heads of
 * {@code tokens} tokens, the shapes of SDXL's UNet at 1024 px: 10×4096×64 (level 1) and 20×1024×64
 * (level 2). Compare with {@code shared/bench/peers_torch.py --only attn}, which times the same
 * shapes the way diffusers' unfused {@code AttnProcessor} computes them; GFLOP/s = 4·H·N²·D / time.
 *
 * {@link #crossAttention} times the same queries against 77 text tokens (SDXL's cross-attention;
 * no peer line exists for it).
 *
 * <p>The default parameters form a cross product; select a shape with
 * {@code -p heads=10 -p tokens=4096} (see BENCHMARKS.md for the exact commands).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBench {

    /** CLIP's context length: the keys of SDXL's cross-attention. */
    private static final int TEXT_TOKENS = 77;

    @Param({"10", "20"})
    int heads;

    @Param({"4096", "1024"})
    int tokens;

    @Param({"64"})
    int headDim;

    @Param({"1", "2"})
    int threads;

    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor textK;
    private Tensor textV;
    private float scale;

    @Setup
    public void setUp() {
        Parallel.setThreads(threads);
        SplittableRandom rnd = new SplittableRandom(42);
        int hidden = heads * headDim;
        q = random(rnd, tokens, hidden);
        k = random(rnd, tokens, hidden);
        v = random(rnd, tokens, hidden);
        textK = random(rnd, TEXT_TOKENS, hidden);
        textV = random(rnd, TEXT_TOKENS, hidden);
        scale = (float) (1 / Math.sqrt(headDim));
    }

    private static Tensor random(SplittableRandom rnd, int tokens, int hidden) {
        float[] x = new float[tokens * hidden];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return Tensor.of(x, 1, tokens, hidden);
    }

    @Benchmark
    public Tensor selfAttention() {
        return Backend.cpu().attention(q, k, v, heads, scale, null, null);
    }

    /** Cross-attention of the same queries to 77 text tokens: GFLOP/s = 4·H·N·77·D / time. */
    @Benchmark
    public Tensor crossAttention() {
        return Backend.cpu().attention(q, textK, textV, heads, scale, null, null);
    }
}
