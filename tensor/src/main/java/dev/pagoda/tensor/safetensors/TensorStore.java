package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.Tensor;
import java.util.Set;

/**
 * Named tensors read from weight files: one safetensors file or a sharded set. Model loading
 * depends only on this view. Tensors stay valid until {@link #close()}.
 */
public interface TensorStore extends AutoCloseable {

    /** Every tensor name, in a stable order (header order, shard by shard). */
    Set<String> names();

    boolean contains(String name);

    /**
     * Header information of {@code name} (dtype, shape) without touching the data.
     *
     * @throws SafetensorsException naming the store when there is no such tensor
     */
    TensorInfo info(String name);

    /**
     * The tensor {@code name} in its stored dtype; a zero-copy view where the store allows.
     *
     * @throws SafetensorsException naming the store when there is no such tensor
     */
    Tensor tensor(String name);

    /** Where the tensors come from, for error messages. */
    String describe();

    /** Releases the mappings; idempotent. Tensors obtained before must not be used afterwards. */
    @Override
    void close();
}
