package dev.pagoda.tensor;

/** Heap storage for float32 activations: kernels read and write the array directly. */
public record FloatArrayStorage(float[] data) implements Storage {

    @Override
    public long byteSize() {
        return 4L * data.length;
    }

    @Override
    public float getFloat(DType dtype, long index) {
        return data[(int) index];
    }

    @Override
    public void setFloat(DType dtype, long index, float value) {
        data[(int) index] = value;
    }

    @Override
    public long getLong(DType dtype, long index) {
        return (long) data[(int) index];
    }

    @Override
    public void setLong(DType dtype, long index, long value) {
        data[(int) index] = value;
    }
}
