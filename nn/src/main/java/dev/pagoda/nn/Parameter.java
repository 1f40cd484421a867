package dev.pagoda.nn;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * A named weight slot: the shape the architecture expects and, once loaded, the tensor in its
 * stored dtype (F16 stays F16).
 */
public final class Parameter {

    private final int[] shape;
    private Tensor value;

    Parameter(int[] shape) {
        this.shape = shape.clone();
    }

    public int[] shape() {
        return shape.clone();
    }

    public boolean isLoaded() {
        return value != null;
    }

    /** The loaded tensor. */
    public Tensor get() {
        if (value == null) {
            throw new IllegalStateException("parameter of shape " + Shapes.str(shape) + " was never loaded");
        }
        return value;
    }

    /** Sets the value; its shape must equal the declared one. */
    public void set(Tensor t) {
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("parameter expects shape " + Shapes.str(shape) + ", got "
                    + Shapes.str(t.shape()));
        }
        value = t;
    }
}
