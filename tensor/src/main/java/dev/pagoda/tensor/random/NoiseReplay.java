package dev.pagoda.tensor.random;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link NoiseSource} that hands out recorded tensors in order instead of sampling: the noise tape
 * of a golden case, or latents the user supplied. Each draw must ask for exactly the recorded shape,
 * so a pipeline that consumes noise in a different order or shape than the reference fails at the
 * first divergent draw instead of silently using the wrong tensor.
 *
 * <p>The recorded values are copied (widened to float32) when the replay is built, so the tensors
 * may come from a file that is closed afterwards.
 */
public final class NoiseReplay implements NoiseSource {

    private final List<float[]> values;
    private final List<int[]> shapes;
    private int position;

    public NoiseReplay(List<Tensor> draws) {
        this.values = new ArrayList<>(draws.size());
        this.shapes = new ArrayList<>(draws.size());
        for (int i = 0; i < draws.size(); i++) {
            Tensor t = draws.get(i);
            if (t == null) {
                throw new IllegalArgumentException("noise replay: recorded draw #" + i + " is null");
            }
            if (!t.dtype().isFloating()) {
                throw new IllegalArgumentException("noise replay: recorded draw #" + i + " has dtype "
                        + t.dtype() + ", expected a floating-point tensor");
            }
            values.add(t.toFloatArray());
            shapes.add(t.shape());
        }
    }

    /**
     * The next recorded tensor, as a fresh heap F32 copy (callers may modify it).
     *
     * @throws IllegalArgumentException when the requested shape differs from the recorded one
     * @throws IllegalStateException when every recorded draw has been handed out
     */
    @Override
    public Tensor next(int... shape) {
        if (position >= values.size()) {
            throw new IllegalStateException("noise replay exhausted: draw #" + position + " of shape "
                    + Shapes.str(shape) + " requested, but only " + values.size() + " tensors were recorded");
        }
        int[] recorded = shapes.get(position);
        if (!Arrays.equals(recorded, shape)) {
            throw new IllegalArgumentException("noise replay: draw #" + position + " requested shape "
                    + Shapes.str(shape) + " but the recorded tensor has shape " + Shapes.str(recorded));
        }
        float[] copy = values.get(position).clone();
        position++;
        return Tensor.of(copy, shape.clone());
    }

    /** How many draws have been handed out. */
    public int consumed() {
        return position;
    }

    /** How many recorded draws are left. */
    public int remaining() {
        return values.size() - position;
    }
}
