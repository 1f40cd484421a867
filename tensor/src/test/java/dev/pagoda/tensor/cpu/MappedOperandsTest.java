package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operands that are F32 views of a memory-mapped file (contiguous, but not heap arrays) give the same
 * results as their heap copies, in every kernel that reads raw arrays.
 */
class MappedOperandsTest {

    @Test
    void kernelsAcceptMappedF32Tensors(@TempDir Path dir) {
        Random r = new Random(3);
        float[] a = new float[2 * 6 * 4 * 4];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() * 4 - 2;
        }
        Tensor heap = Tensor.of(a, 2, 6, 4, 4);
        Path f = dir.resolve("t.safetensors");
        SafetensorsWriter.write(f, Map.of("x", heap));
        Backend be = Backend.cpu();
        try (SafetensorsFile file = SafetensorsFile.open(f)) {
            Tensor mapped = file.tensor("x");
            assertArrayEquals(be.mul(heap, heap).toFloatArray(), be.mul(mapped, mapped).toFloatArray());
            assertArrayEquals(be.add(heap, heap).toFloatArray(), be.add(mapped, heap).toFloatArray());
            assertArrayEquals(be.gelu(heap, false).toFloatArray(), be.gelu(mapped, false).toFloatArray());
            assertArrayEquals(be.geglu(heap).toFloatArray(), be.geglu(mapped).toFloatArray());
            assertArrayEquals(be.silu(heap).toFloatArray(), be.silu(mapped).toFloatArray());
            assertArrayEquals(be.affine(heap, 2f, 1f).toFloatArray(), be.affine(mapped, 2f, 1f).toFloatArray());
            assertArrayEquals(be.upsampleNearest2x(heap).toFloatArray(), be.upsampleNearest2x(mapped).toFloatArray());
            assertArrayEquals(be.softmax(heap).toFloatArray(), be.softmax(mapped).toFloatArray());
            assertArrayEquals(be.groupNorm(heap, 3, null, null, 1e-5f, true).toFloatArray(),
                    be.groupNorm(mapped, 3, null, null, 1e-5f, true).toFloatArray());
            assertArrayEquals(be.layerNorm(heap, null, null, 1e-5f).toFloatArray(),
                    be.layerNorm(mapped, null, null, 1e-5f).toFloatArray());
            assertArrayEquals(be.concat(1, heap, heap).toFloatArray(), be.concat(1, mapped, mapped).toFloatArray());
            assertArrayEquals(be.clamp(heap, -1, 1).toFloatArray(), be.clamp(mapped, -1, 1).toFloatArray());
            assertArrayEquals(be.exp(heap).toFloatArray(), be.exp(mapped).toFloatArray());
        }
    }
}
