package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A safetensors file mapped into memory. The header is read with plain reads and validated
 * completely ({@link SafetensorsHeader}) before anything is mapped; the data region is then one
 * FFM mapping, so files over 2 GB work. Tensors are zero-copy views of the mapping in their stored
 * dtype and stay valid until {@link #close()}.
 *
 * <p>The mapping is read-only and shared by threads. A file truncated by another process while
 * mapped makes later reads fault (the JVM reports an {@link InternalError}); files are expected
 * not to change under a reader, and {@link SafetensorsWriter} replaces files atomically so that
 * open mappings keep seeing the old contents.
 */
public final class SafetensorsFile implements TensorStore {

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /**
     * Validates and maps {@code path}.
     *
     * @throws SafetensorsException naming the file and the first problem found
     */
    public static SafetensorsFile open(Path path) {
        if (!Files.exists(path)) {
            throw new SafetensorsException(path, "no such file");
        }
        if (!Files.isRegularFile(path)) {
            throw new SafetensorsException(path, "not a regular file");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(path, "file is " + size
                        + " bytes, too short for the 8-byte header length");
            }
            long n = SafetensorsHeader.checkLength(path, readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(),
                    size);
            byte[] text = new byte[(int) n];
            readFully(ch, 8, (int) n).get(text);
            long dataSize = size - 8 - n;
            SafetensorsHeader header = SafetensorsHeader.parse(path, text, dataSize);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = dataSize == 0 ? MemorySegment.ofArray(new byte[0])
                        : ch.map(FileChannel.MapMode.READ_ONLY, 8 + n, dataSize, arena);
                return new SafetensorsFile(path, arena, data, header);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot read file: " + e, e);
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new EOFException("file shrank while its header was read");
            }
        }
        return buf.flip();
    }

    public Path path() {
        return path;
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public Set<String> names() {
        return header.tensors().keySet();
    }

    @Override
    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** All entries, in header order. */
    public Collection<TensorInfo> infos() {
        return header.tensors().values();
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo e = header.tensors().get(name);
        if (e == null) {
            throw new SafetensorsException(path, "no tensor named " + Json.quote(name));
        }
        return e;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Where the data region starts in the file: {@code 8 + header length}. */
    public long dataStart() {
        return 8 + header.headerLength();
    }

    /** The tensor {@code name}: a zero-copy view of the mapping in its stored dtype. */
    @Override
    public Tensor tensor(String name) {
        TensorInfo e = info(name);
        if (closed.get()) {
            throw new IllegalStateException(path + ": tensor " + Json.quote(name) + " requested after close()");
        }
        return Tensor.wrap(data.asSlice(e.begin(), e.byteSize()), e.dtype(), e.shape());
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header.tensors().size() + " tensors]";
    }
}
