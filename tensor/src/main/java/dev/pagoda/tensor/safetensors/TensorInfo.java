package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a safetensors header says about one tensor: dtype, shape and its byte range
 * {@code [begin, end)} within the file's data region (after the header). Validated before it is
 * built, so {@code end - begin == numel * dtype.byteSize()} always holds.
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    /** A copy: the record stays immutable. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return Shapes.numel(shape);
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + " " + Shapes.str(shape) + " @ [" + begin + ", " + end + ")";
    }
}
