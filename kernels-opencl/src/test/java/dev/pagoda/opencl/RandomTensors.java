package dev.pagoda.opencl;

import java.util.SplittableRandom;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/** Seeded random host tensors for the kernel tests. */
final class RandomTensors {

    private final SplittableRandom rng;

    RandomTensors(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    /** Uniform in [lo, hi). */
    Tensor uniform(float lo, float hi, int... shape) {
        float[] v = new float[Math.toIntExact(Shapes.numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return Tensor.of(v, shape);
    }

    /** Uniform in [-1, 1). */
    Tensor signed(int... shape) {
        return uniform(-1f, 1f, shape);
    }

    /** Magnitudes in [0.25, 2) with random signs: safe divisors. */
    Tensor awayFromZero(int... shape) {
        Tensor t = uniform(0.25f, 2f, shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            if (rng.nextBoolean()) {
                a[i] = -a[i];
            }
        }
        return t;
    }
}
