package dev.pagoda.nn.ipadapter;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorInfo;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Renamed views of another store's tensors (key conversion to diffusers names): loading goes
 * through the strict {@link dev.pagoda.nn.WeightLoader} and still reports every missing, unexpected
 * or mis-shaped key together. Closing it leaves the underlying store open.
 */
final class MapTensorStore implements TensorStore {

    private final String description;
    private final Map<String, Tensor> tensors;

    MapTensorStore(String description, Map<String, Tensor> tensors) {
        this.description = description;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensor(name);
        long bytes = t.numel() * t.dtype().byteSize();
        return new TensorInfo(name, t.dtype(), t.shape(), 0, bytes);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(description + ": no tensor \"" + name + "\"");
        }
        return t;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
    }
}
