package dev.pagoda.tensor.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, so tests can say exactly what is wrong with one. */
final class SafetensorsBytes {

    private SafetensorsBytes() {
    }

    /** A file whose 8-byte prefix is the true length of {@code header}, followed by {@code dataBytes} bytes. */
    static byte[] file(String header, int dataBytes) {
        return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    static byte[] file(byte[] header, int dataBytes) {
        return withLength(header.length, header, dataBytes);
    }

    /** A file with an arbitrary (possibly lying) header length prefix. */
    static byte[] withLength(long n, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(header);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) (i * 7 + 1));
        }
        return b.array();
    }

    static byte[] withLength(long n, String header, int dataBytes) {
        return withLength(n, header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    /** Header bytes from Latin-1 text plus raw bytes (for invalid UTF-8). */
    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
