package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.Tensor;
import java.util.Set;

/**
 * Named tensors read from weight files: one safetensors file or a sharded set. Model loading
 * depends only on this view.
 */
public interface TensorStore extends AutoCloseable {

    Set<String> names();

    boolean contains(String name);

    /** Header information of {@code name} (dtype, shape) without touching the data. */
    SafetensorsFile.Entry entry(String name);

    /** The tensor {@code name} in its stored dtype; a zero-copy view where the store allows. */
    Tensor tensor(String name);

    /** Where the tensors come from, for error messages. */
    String describe();

    @Override
    void close();
}
