package dev.pagoda.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pagoda.tensor.Tensor;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files beyond 2 GB (SDXL's UNet is 5 to 10 GB) map as one segment. The file here is sparse: its
 * length is set, only a few bytes are written, so it costs no disk space on Linux file systems.
 */
class LargeSafetensorsFileTest {

    @TempDir
    Path dir;

    private static byte[] le(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
    }

    @Test
    void tensorsBeyondTwoGigabytesReadThroughOneMapping() throws Exception {
        // Falls back to skipping where a file system would have to allocate the whole length.
        assumeTrue(Files.getFileStore(dir).getUsableSpace() > (3L << 30), "needs room for a 2 GB sparse file");
        int n = (1 << 29) + 3; // F32 elements: 2^31 + 12 bytes
        long big = 4L * n;
        String json = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        long start = 8 + header.length;
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            raf.write(header);
            raf.setLength(start + big + 8);
            raf.seek(start + 4L * (1 << 29)); // the first element past byte 2^31 of the data
            raf.write(le(3.25f));
            raf.seek(start + 4L * (n - 1));
            raf.write(le(-7.5f));
            raf.seek(start + big + 4);
            raf.write(le(42f));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(big, f.info("big").byteSize());
            Tensor t = f.tensor("big");
            assertEquals(n, t.numel());
            assertEquals(0f, t.getFloat(0));
            assertEquals(3.25f, t.getFloat(1 << 29));
            assertEquals(-7.5f, t.getFloat(n - 1));
            Tensor tail = f.tensor("tail");
            assertEquals(big, f.info("tail").begin());
            assertEquals(0f, tail.getFloat(0));
            assertEquals(42f, tail.getFloat(1));
        }
    }
}
