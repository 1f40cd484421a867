package dev.pagoda.tensor;

/**
 * Heap storage for float32 activations: kernels read and write the array directly.
 *
 * <p>An array the tensor layer allocated ({@link Tensor#zeros(int...)}, {@link Tensor#uninitialized})
 * can be given back by {@link Tensor#release()} for a later output to reuse. From then on this
 * storage refuses to hand out its array, so a tensor used after its release fails at the next
 * operation instead of reading another activation's values.
 */
public final class FloatArrayStorage implements Storage {

    private final float[] data;
    private final boolean pooled;
    private boolean released;

    /** Wraps a caller's array; it never goes to the activation pool. */
    public FloatArrayStorage(float[] data) {
        this(data, false);
    }

    FloatArrayStorage(float[] data, boolean pooled) {
        this.data = data;
        this.pooled = pooled;
    }

    /** The array; throws once the storage has been released. */
    public float[] data() {
        if (released) {
            throw new IllegalStateException("an activation of " + data.length
                    + " floats was used after Tensor.release() gave its array back");
        }
        return data;
    }

    /** Whether the array was allocated by the tensor layer, so that releasing it may pool it. */
    boolean pooled() {
        return pooled;
    }

    /** Marks the storage dead and gives its array to the pool; only the first call does anything. */
    void release() {
        if (!released && pooled) {
            released = true;
            ActivationPool.give(data);
        }
    }

    @Override
    public long byteSize() {
        return 4L * data.length;
    }

    @Override
    public float getFloat(DType dtype, long index) {
        return data()[(int) index];
    }

    @Override
    public void setFloat(DType dtype, long index, float value) {
        data()[(int) index] = value;
    }

    @Override
    public long getLong(DType dtype, long index) {
        return (long) data()[(int) index];
    }

    @Override
    public void setLong(DType dtype, long index, long value) {
        data()[(int) index] = value;
    }

    @Override
    public String toString() {
        return "FloatArrayStorage[" + data.length + (released ? " floats, released]" : " floats]");
    }
}
