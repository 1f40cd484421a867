package dev.pagoda.tensor.random;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * A bit-exact port of PyTorch's CPU random generator ({@code torch.Generator('cpu')}, also the default
 * generator behind {@code torch.manual_seed}) and of the way {@code torch.randn} turns it into float32
 * normals, so that "seed 42" gives the same noise as diffusers and ComfyUI with a CPU generator.
 *
 * <p>The engine is mt19937 seeded from the low 32 bits of the 64-bit seed (torch keeps the full seed
 * for {@link #initialSeed()}). {@link #randn} follows torch's {@code normal_} kernel:
 * <ul>
 *   <li>fewer than 16 elements: one value at a time from {@code normal_distribution<double>}
 *       (Box–Muller on two 53-bit uniforms from {@code random64()}); the second value of each pair is
 *       cached in the generator and handed out by the next scalar draw, even across calls;</li>
 *   <li>16 or more: all uniforms first (24-bit, from {@code random()}), then the 16-wide Box–Muller
 *       of the AVX2 build ({@link Avx2BoxMuller}); when the count is not a multiple of 16 the last 16
 *       values are redrawn and transformed again. This path leaves the scalar cache untouched.</li>
 * </ul>
 * The reference is an x86-64 build running its AVX2 kernels (the usual desktop case); machines on
 * which torch dispatches other kernels produce different noise from the same seed.
 *
 * <p>Not thread-safe: like torch's generator, one instance is one sequential stream.
 */
public final class TorchGenerator implements NoiseSource {

    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    /** Below this many elements torch samples one value at a time. */
    static final int VECTOR_THRESHOLD = 16;

    private final int[] state = new int[N];
    private int left;
    private int next;
    private long seed;
    private boolean hasCachedNormal;
    private double cachedNormal;

    /** {@code torch.Generator('cpu').manual_seed(seed)}; the seed is read as an unsigned 64-bit value. */
    public TorchGenerator(long seed) {
        manualSeed(seed);
    }

    /** Re-seeds in place and forgets the cached normal, as {@code manual_seed} does. */
    public TorchGenerator manualSeed(long seed) {
        this.seed = seed;
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        left = 1;
        next = 0;
        hasCachedNormal = false;
        return this;
    }

    /** The seed given last, as {@code Generator.initial_seed()} returns it (an unsigned 64-bit value). */
    public long initialSeed() {
        return seed;
    }

    /** One 32-bit output of the engine ({@code random()}), as the bits of an int. */
    public int nextInt32() {
        if (--left == 0) {
            twist();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** {@code random64()}: the first 32-bit output is the high half. */
    public long nextLong64() {
        long hi = nextInt32() & 0xffffffffL;
        long lo = nextInt32() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    /** {@code torch.randn(shape, generator=this)}: a new contiguous F32 tensor. */
    public Tensor randn(int... shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("randn: negative dimension in shape " + Shapes.str(shape));
            }
        }
        long n = Shapes.numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("randn: shape " + Shapes.str(shape)
                    + " exceeds the 2^31 element limit of a heap tensor");
        }
        float[] data = new float[(int) n];
        fillNormal(data);
        return Tensor.of(data, shape.clone());
    }

    /** The same draw as {@code randn} of a tensor with {@code data.length} elements, written in place. */
    public void fillNormal(float[] data) {
        if (data.length < VECTOR_THRESHOLD) {
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) nextNormalDouble();
            }
            return;
        }
        int size = data.length;
        for (int i = 0; i < size; i++) {
            data[i] = nextUniformFloat();
        }
        for (int i = 0; i + VECTOR_THRESHOLD <= size; i += VECTOR_THRESHOLD) {
            Avx2BoxMuller.transform16(data, i);
        }
        if (size % VECTOR_THRESHOLD != 0) {
            int tail = size - VECTOR_THRESHOLD;
            for (int i = 0; i < VECTOR_THRESHOLD; i++) {
                data[tail + i] = nextUniformFloat();
            }
            Avx2BoxMuller.transform16(data, tail);
        }
    }

    @Override
    public Tensor next(int... shape) {
        return randn(shape);
    }

    /** {@code uniform_real_distribution<float>(0, 1)}: 24 random bits scaled by 2^-24. */
    private float nextUniformFloat() {
        return (nextInt32() & 0xffffff) * 0x1p-24f;
    }

    /** {@code uniform_real_distribution<double>(0, 1)}: 53 random bits of random64() scaled by 2^-53. */
    private double nextUniformDouble() {
        return (nextLong64() & ((1L << 53) - 1)) * 0x1p-53;
    }

    /**
     * {@code normal_distribution<double>(0, 1)}: Box–Muller with u1 the angle and u2 the radius, the
     * sine half cached for the next call. StrictMath keeps the result independent of the JIT's
     * intrinsics; glibc and fdlibm agree to far below the float32 rounding applied afterwards.
     */
    private double nextNormalDouble() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = nextUniformDouble();
        double u2 = nextUniformDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta);
    }

    /** Regenerates the 624 words of state (the reference's Cokus-style loop, same results). */
    private void twist() {
        left = N;
        next = 0;
        int p = 0;
        for (; p < N - M; p++) {
            state[p] = state[p + M] ^ mix(state[p], state[p + 1]);
        }
        for (; p < N - 1; p++) {
            state[p] = state[p + M - N] ^ mix(state[p], state[p + 1]);
        }
        state[N - 1] = state[M - 1] ^ mix(state[N - 1], state[0]);
    }

    private static int mix(int u, int v) {
        int y = (u & UPPER_MASK) | (v & LOWER_MASK);
        return (y >>> 1) ^ ((v & 1) != 0 ? MATRIX_A : 0);
    }
}
