package dev.pagoda.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An n-dimensional array: shape, strides and offset (both in elements) over a {@link Storage}.
 * Views (reshape of a contiguous tensor, permute, transpose, narrow, select, expand) share the
 * storage; {@link #contiguous()} copies only when the layout requires it. Float32 activations live
 * in heap arrays; weights are zero-copy slices of memory-mapped files in their stored dtype.
 *
 * <p>Operations are executed by the {@link Backend} of the tensor's storage, so model code never
 * branches on the device.
 */
public final class Tensor {

    private final DType dtype;
    private final int[] shape;
    private final long[] strides;
    private final long offset;
    private final Storage storage;

    public Tensor(DType dtype, int[] shape, long[] strides, long offset, Storage storage) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shapes.str(shape) + " and strides "
                    + Arrays.toString(strides) + " differ in rank");
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Shapes.str(shape));
            }
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
        this.storage = storage;
    }

    // ---------------------------------------------------------------- factories

    /** Wraps a float array (no copy) as a contiguous F32 tensor. */
    public static Tensor of(float[] data, int... shape) {
        long n = Shapes.numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("Tensor.of: " + data.length + " values cannot have shape "
                    + Shapes.str(shape));
        }
        return new Tensor(DType.F32, shape, Shapes.contiguousStrides(shape), 0, new FloatArrayStorage(data));
    }

    /** A new zero-filled contiguous F32 tensor on the heap. */
    public static Tensor zeros(int... shape) {
        return heap(new float[heapLength(shape)], shape);
    }

    /**
     * A new contiguous F32 tensor on the heap whose elements are arbitrary, for a kernel that writes
     * every element of its output. Its array may be one that {@link #release()} gave back, which
     * saves the JVM's zero-fill of a fresh array (as costly as a norm kernel) and is likely still in
     * cache.
     */
    public static Tensor uninitialized(int... shape) {
        return heap(ActivationPool.take(heapLength(shape)), shape);
    }

    private static int heapLength(int[] shape) {
        long n = Shapes.numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("F32 activation of shape " + Shapes.str(shape)
                    + " exceeds the 2^31 element limit of a heap tensor");
        }
        return (int) n;
    }

    private static Tensor heap(float[] data, int[] shape) {
        return new Tensor(DType.F32, shape, Shapes.contiguousStrides(shape), 0, new FloatArrayStorage(data, true));
    }

    /** A new zero-filled contiguous tensor of any dtype (F32 on the heap, others off-heap). */
    public static Tensor zeros(DType dtype, int... shape) {
        if (dtype == DType.F32) {
            return zeros(shape);
        }
        long bytes = Shapes.numel(shape) * dtype.byteSize();
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(bytes, 1), 8);
        return new Tensor(dtype, shape, Shapes.contiguousStrides(shape), 0, new SegmentStorage(seg));
    }

    /** A contiguous tensor over a little-endian segment (e.g. a slice of a mapped file); no copy. */
    public static Tensor wrap(MemorySegment segment, DType dtype, int... shape) {
        long need = Shapes.numel(shape) * dtype.byteSize();
        if (segment.byteSize() < need) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for "
                    + dtype + " " + Shapes.str(shape) + " (" + need + " bytes)");
        }
        return new Tensor(dtype, shape, Shapes.contiguousStrides(shape), 0, new SegmentStorage(segment));
    }

    public static Tensor ofLongs(long[] values, int... shape) {
        Tensor t = zeros(DType.I64, shape);
        if (values.length != t.numel()) {
            throw new IllegalArgumentException("Tensor.ofLongs: " + values.length + " values cannot have shape "
                    + Shapes.str(shape));
        }
        for (int i = 0; i < values.length; i++) {
            t.storage.setLong(DType.I64, i, values[i]);
        }
        return t;
    }

    public static Tensor ofInts(int[] values, int... shape) {
        Tensor t = zeros(DType.I32, shape);
        if (values.length != t.numel()) {
            throw new IllegalArgumentException("Tensor.ofInts: " + values.length + " values cannot have shape "
                    + Shapes.str(shape));
        }
        for (int i = 0; i < values.length; i++) {
            t.storage.setLong(DType.I32, i, values[i]);
        }
        return t;
    }

    public static Tensor scalar(float v) {
        return of(new float[] {v});
    }

    // ---------------------------------------------------------------- accessors

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public int dim(int d) {
        return shape[axis(d)];
    }

    public long[] strides() {
        return strides.clone();
    }

    public long stride(int d) {
        return strides[axis(d)];
    }

    public long offset() {
        return offset;
    }

    public Storage storage() {
        return storage;
    }

    public long numel() {
        return Shapes.numel(shape);
    }

    public Backend backend() {
        return storage.backend();
    }

    public boolean isContiguous() {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** True for a contiguous F32 tensor on the heap: kernels may use {@link #array()} directly. */
    public boolean isHeapF32() {
        return dtype == DType.F32 && storage instanceof FloatArrayStorage && isContiguous();
    }

    /**
     * The backing array of a contiguous heap F32 tensor; element i of the tensor is
     * {@code array()[(int) offset() + i]}.
     */
    public float[] array() {
        if (!isHeapF32()) {
            throw new IllegalStateException("array() needs a contiguous heap F32 tensor, got " + this);
        }
        return ((FloatArrayStorage) storage).data();
    }

    /**
     * Declares that neither this tensor nor any view of its storage will be read again, so a later
     * operation may write its output into the same array. torch learns this from reference counts;
     * here module code says it for the intermediates it creates and consumes. Only a heap F32 tensor
     * that the tensor layer allocated and that spans its whole array gives the array back; for any
     * other tensor (a part of an array, a wrapped caller array, weights, device memory) this does
     * nothing. After a release, any operation on this tensor or a view of it throws
     * {@link IllegalStateException}.
     */
    public void release() {
        if (storage instanceof FloatArrayStorage s && s.pooled() && offset == 0
                && numel() * 4 == s.byteSize()) {
            s.release();
        }
    }

    /** Normalises a possibly negative axis and checks it. */
    public int axis(int d) {
        int a = d < 0 ? d + shape.length : d;
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("axis " + d + " out of range for shape " + Shapes.str(shape));
        }
        return a;
    }

    // ---------------------------------------------------------------- element access (tests, cold code)

    private long index(int... idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + idx.length + " for shape " + Shapes.str(shape));
        }
        long p = offset;
        for (int d = 0; d < idx.length; d++) {
            if (idx[d] < 0 || idx[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of shape "
                        + Shapes.str(shape));
            }
            p += idx[d] * strides[d];
        }
        return p;
    }

    public float getFloat(int... idx) {
        return storage.getFloat(dtype, index(idx));
    }

    public void setFloat(float value, int... idx) {
        storage.setFloat(dtype, index(idx), value);
    }

    public long getLong(int... idx) {
        return storage.getLong(dtype, index(idx));
    }

    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() of a tensor with " + numel() + " elements: " + this);
        }
        return storage.getFloat(dtype, offset);
    }

    /** A fresh float array with the elements in row-major order (widened from any dtype). */
    public float[] toFloatArray() {
        if (isHeapF32()) {
            float[] a = array();
            return Arrays.copyOfRange(a, (int) offset, (int) (offset + numel()));
        }
        float[] out = new float[Math.toIntExact(numel())];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = storage.getFloat(dtype, elementOffset(idx));
            Shapes.increment(idx, shape);
        }
        return out;
    }

    /** A fresh long array with the elements in row-major order. */
    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(numel())];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = storage.getLong(dtype, elementOffset(idx));
            Shapes.increment(idx, shape);
        }
        return out;
    }

    private long elementOffset(int[] idx) {
        long p = offset;
        for (int d = 0; d < idx.length; d++) {
            p += idx[d] * strides[d];
        }
        return p;
    }

    // ---------------------------------------------------------------- views

    /** Same elements, new shape (one entry may be -1). A view when contiguous, a copy otherwise. */
    public Tensor reshape(int... newShape) {
        int[] s = Shapes.inferReshape(shape, newShape);
        Tensor src = isContiguous() ? this : contiguous();
        return new Tensor(dtype, s, Shapes.contiguousStrides(s), src.offset, src.storage);
    }

    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute " + Arrays.toString(dims) + " for shape " + Shapes.str(shape));
        }
        int[] s = new int[dims.length];
        long[] st = new long[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int a = axis(dims[i]);
            if (seen[a]) {
                throw new IllegalArgumentException("permute repeats axis " + a + ": " + Arrays.toString(dims));
            }
            seen[a] = true;
            s[i] = shape[a];
            st[i] = strides[a];
        }
        return new Tensor(dtype, s, st, offset, storage);
    }

    public Tensor transpose(int a, int b) {
        int[] p = new int[shape.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = i;
        }
        int x = axis(a);
        int y = axis(b);
        p[x] = y;
        p[y] = x;
        return permute(p);
    }

    /** Elements {@code start .. start+length-1} along {@code dim}; a view. */
    public Tensor narrow(int dim, int start, int length) {
        int d = axis(dim);
        if (start < 0 || length < 0 || start > shape[d] - length) {
            throw new IllegalArgumentException("narrow(" + dim + ", " + start + ", " + length + ") out of shape "
                    + Shapes.str(shape));
        }
        int[] s = shape.clone();
        s[d] = length;
        return new Tensor(dtype, s, strides, offset + start * strides[d], storage);
    }

    /** Index {@code index} along {@code dim}, dropping that dimension; a view. */
    public Tensor select(int dim, int index) {
        int d = axis(dim);
        if (index < 0 || index >= shape[d]) {
            throw new IllegalArgumentException("select(" + dim + ", index " + index + ") out of range for shape "
                    + Shapes.str(shape));
        }
        Tensor n = narrow(d, index, 1);
        return n.squeeze(d);
    }

    /** Splits {@code dim} into {@code parts} equal views. */
    public Tensor[] chunk(int parts, int dim) {
        int d = axis(dim);
        if (parts <= 0 || shape[d] % parts != 0) {
            throw new IllegalArgumentException("chunk(" + parts + ") of dimension " + d + " in shape "
                    + Shapes.str(shape) + ": not divisible");
        }
        int len = shape[d] / parts;
        Tensor[] out = new Tensor[parts];
        for (int i = 0; i < parts; i++) {
            out[i] = narrow(d, i * len, len);
        }
        return out;
    }

    public Tensor unsqueeze(int dim) {
        int d = dim < 0 ? dim + shape.length + 1 : dim;
        if (d < 0 || d > shape.length) {
            throw new IllegalArgumentException("unsqueeze(" + dim + ") for shape " + Shapes.str(shape));
        }
        int[] s = new int[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j];
                j++;
            }
        }
        return new Tensor(dtype, s, st, offset, storage);
    }

    public Tensor squeeze(int dim) {
        int d = axis(dim);
        if (shape[d] != 1) {
            throw new IllegalArgumentException("squeeze(" + dim + ") of a dimension of size " + shape[d]
                    + " in shape " + Shapes.str(shape));
        }
        int[] s = new int[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                s[j] = shape[i];
                st[j] = strides[i];
                j++;
            }
        }
        return new Tensor(dtype, s, st, offset, storage);
    }

    /** Broadcast view to {@code target} (numpy rules; stride 0 on expanded dimensions). */
    public Tensor expand(int... target) {
        if (target.length < shape.length) {
            throw new IllegalArgumentException("expand " + Shapes.str(shape) + " to lower rank " + Shapes.str(target));
        }
        int lead = target.length - shape.length;
        long[] st = new long[target.length];
        for (int i = 0; i < target.length; i++) {
            int j = i - lead;
            if (j < 0) {
                st[i] = 0;
            } else if (shape[j] == target[i]) {
                st[i] = strides[j];
            } else if (shape[j] == 1) {
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot broadcast to "
                        + Shapes.str(target));
            }
        }
        return new Tensor(dtype, target, st, offset, storage);
    }

    /** This tensor if already contiguous, else a contiguous copy in the same dtype. */
    public Tensor contiguous() {
        return isContiguous() ? this : backend().copy(this, dtype);
    }

    /** A contiguous copy (or this tensor, when it already is contiguous and of that dtype). */
    public Tensor to(DType target) {
        return dtype == target && isContiguous() ? this : backend().copy(this, target);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Shapes.str(shape) + (isContiguous() ? "" : " strided") + "]";
    }
}
