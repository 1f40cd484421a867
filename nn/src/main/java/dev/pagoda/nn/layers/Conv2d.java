package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.Conv2d} with square kernel, stride and zero padding. */
public final class Conv2d extends Module implements LoraTarget {

    private final Parameter weight;
    private final Parameter bias;
    private final int stride;
    private final int padding;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias) {
        this.weight = param("weight", out, in, kernel, kernel);
        this.bias = bias ? param("bias", out) : null;
        this.stride = stride;
        this.padding = padding;
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, true);
    }

    private final LowRankAdapters lora = new LowRankAdapters();

    public Tensor forward(Tensor x) {
        Tensor y = x.backend().conv2d(x, weight.get(), bias == null ? null : bias.get(), stride, padding, 1);
        return lora.isEmpty() ? y : lora.sidePath(x, y, (in, a) -> in.backend().conv2d(
                in.backend().conv2d(in, a.down(), null, stride, padding, 1), a.up(), null, 1, 0, 1));
    }

    @Override
    public void addLora(String name, Tensor down, Tensor up, float scale) {
        int[] w = weight.shape();
        if (down.rank() == 2) {
            down = down.reshape(down.dim(0), down.dim(1), 1, 1);
        }
        if (up.rank() == 2) {
            up = up.reshape(up.dim(0), up.dim(1), 1, 1);
        }
        if (down.rank() != 4 || up.rank() != 4 || down.dim(1) != w[1] || down.dim(2) != w[2] || down.dim(3) != w[3]
                || up.dim(0) != w[0] || up.dim(1) != down.dim(0) || up.dim(2) != 1 || up.dim(3) != 1) {
            throw new IllegalArgumentException("LoRA " + name + " does not fit a convolution of weight "
                    + java.util.Arrays.toString(w) + ": down " + java.util.Arrays.toString(down.shape()) + " (expected [r, "
                    + w[1] + ", " + w[2] + ", " + w[3] + "]), up " + java.util.Arrays.toString(up.shape()) + " (expected ["
                    + w[0] + ", r, 1, 1] with the same rank r)");
        }
        lora.add(name, new LowRankAdapters.Adapter(down, up, scale));
    }

    @Override
    public void removeLora(String name) {
        lora.remove(name);
    }

    @Override
    public void setLoraWeights(java.util.Map<String, Float> weights) {
        lora.setWeights(weights);
    }

    @Override
    public void fuseLora() {
        lora.fuse(weight);
    }

    @Override
    public void unfuseLora() {
        lora.unfuse(weight);
    }

    @Override
    public LowRankAdapters lora() {
        return lora;
    }
}
