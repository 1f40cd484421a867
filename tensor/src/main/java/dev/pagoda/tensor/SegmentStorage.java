package dev.pagoda.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Little-endian storage over a {@link MemorySegment}: a slice of a memory-mapped safetensors file
 * (weights stay in their stored dtype, zero-copy) or an off-heap allocation.
 */
public record SegmentStorage(MemorySegment segment) implements Storage {

    public static final ValueLayout.OfFloat F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort U16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * For a memory-mapped segment: drops its pages from resident memory ({@link MemorySegment#unload}); the
     * next read faults them in again from the file (or the page cache), so the values never change. Other
     * segments are left as they are.
     */
    public void unload() {
        if (segment.isMapped()) {
            segment.unload();
        }
    }

    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public float getFloat(DType dtype, long index) {
        return switch (dtype) {
            case F32 -> segment.get(F32, index * 4);
            case F16 -> Float.float16ToFloat(segment.get(U16, index * 2));
            case BF16 -> DType.bf16ToFloat(segment.get(U16, index * 2));
            case I32 -> segment.get(I32, index * 4);
            case I64 -> segment.get(I64, index * 8);
            case BOOL -> segment.get(ValueLayout.JAVA_BYTE, index) != 0 ? 1f : 0f;
        };
    }

    @Override
    public void setFloat(DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> segment.set(F32, index * 4, value);
            case F16 -> segment.set(U16, index * 2, Float.floatToFloat16(value));
            case BF16 -> segment.set(U16, index * 2, DType.floatToBf16(value));
            case I32 -> segment.set(I32, index * 4, (int) value);
            case I64 -> segment.set(I64, index * 8, (long) value);
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) (value != 0 ? 1 : 0));
        }
    }

    @Override
    public long getLong(DType dtype, long index) {
        return switch (dtype) {
            case I32 -> segment.get(I32, index * 4);
            case I64 -> segment.get(I64, index * 8);
            case BOOL -> segment.get(ValueLayout.JAVA_BYTE, index);
            default -> (long) getFloat(dtype, index);
        };
    }

    @Override
    public void setLong(DType dtype, long index, long value) {
        switch (dtype) {
            case I32 -> segment.set(I32, index * 4, (int) value);
            case I64 -> segment.set(I64, index * 8, value);
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) (value != 0 ? 1 : 0));
            default -> setFloat(dtype, index, value);
        }
    }
}
