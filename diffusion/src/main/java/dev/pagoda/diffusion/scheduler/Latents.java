package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.Arrays;

/**
 * The scheduler side of tensors: reading samples into float arrays for the step arithmetic (done
 * in float32, element by element, in the reference's order of operations) and wrapping results.
 */
final class Latents {

    private Latents() {
    }

    /** The elements of {@code t} in row-major order as float32 (a copy). */
    static float[] values(Tensor t) {
        return t.toFloatArray();
    }

    /** A new F32 tensor with the shape of {@code like}. */
    static Tensor like(float[] values, Tensor like) {
        return Tensor.of(values, like.shape());
    }

    /** Fails with both shapes named unless {@code a} and {@code b} have the same shape. */
    static void requireSameShape(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": " + nameA + " has shape " + Shapes.str(a.shape())
                    + " but " + nameB + " has shape " + Shapes.str(b.shape()));
        }
    }

    /** Fails unless {@code noise} is available for a step that has to draw. */
    static NoiseSource requireNoise(NoiseSource noise, String who) {
        if (noise == null) {
            throw new IllegalArgumentException(who + " draws noise at this step, but no NoiseSource was given");
        }
        return noise;
    }
}
