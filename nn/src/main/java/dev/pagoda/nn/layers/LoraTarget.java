package dev.pagoda.nn.layers;

import dev.pagoda.tensor.Tensor;
import java.util.Map;

/** A layer LoRA adapters attach to: {@link Linear} and {@link Conv2d}. */
public interface LoraTarget {

    /**
     * Adds adapter {@code name}: {@code down} is {@code [r, in]} for a linear layer and
     * {@code [r, in, k, k]} for a convolution (same stride and padding as the layer), {@code up} is
     * {@code [out, r]} or {@code [out, r, 1, 1]}; the update is {@code scale·up·down}.
     *
     * @throws IllegalArgumentException naming the shapes when they do not fit the layer or each other
     */
    void addLora(String name, Tensor down, Tensor up, float scale);

    void removeLora(String name);

    /** The weight of every adapter of this layer; adapters not in {@code weights} are off. */
    void setLoraWeights(Map<String, Float> weights);

    /** Writes the active adapters into the weight (a new tensor of its stored dtype). */
    void fuseLora();

    /** Puts the original weight back. */
    void unfuseLora();

    LowRankAdapters lora();
}
