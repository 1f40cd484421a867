package dev.pagoda.tensor;

/**
 * The memory behind a tensor. Element indices are in units of the tensor's dtype, counted from the
 * start of the storage. A storage does not know shapes; {@link Tensor} does.
 */
public interface Storage {

    /** Number of bytes this storage holds. */
    long byteSize();

    float getFloat(DType dtype, long index);

    void setFloat(DType dtype, long index, float value);

    long getLong(DType dtype, long index);

    void setLong(DType dtype, long index, long value);

    /** The backend whose kernels can read this storage directly. */
    default Backend backend() {
        return Backend.cpu();
    }
}
