package dev.pagoda.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dropping a mapped tensor's resident pages keeps its values: they are read again from the file. */
class UnloadPagesTest {

    @Test
    void valuesSurviveUnloadingTheirPages(@TempDir Path dir) {
        // 3 pages and a bit of F16, at an odd offset behind a small tensor, so the slice is not page-aligned
        Random r = new Random(3);
        float[] big = new float[6151];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) r.nextGaussian();
        }
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, Map.of("a", Tensor.of(new float[] {1f, 2f, 3f}, 3),
                "b", Tensor.of(big, big.length).to(DType.F16)));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor b = f.tensor("b");
            float[] before = b.toFloatArray();
            assertTrue(b.storage() instanceof SegmentStorage s && s.segment().isMapped(), "a mapped view");
            ((SegmentStorage) b.storage()).unload();
            assertArrayEquals(before, b.toFloatArray());
            ((SegmentStorage) f.tensor("a").storage()).unload();
            assertArrayEquals(new float[] {1f, 2f, 3f}, f.tensor("a").toFloatArray());
            assertArrayEquals(before, f.tensor("b").toFloatArray());
        }
        // a heap or allocated segment is left alone
        Tensor off = Tensor.zeros(DType.F16, 5);
        ((SegmentStorage) off.storage()).unload();
        assertArrayEquals(new float[5], off.toFloatArray());
    }
}
