package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.Linear}: {@code weight[out, in]}, optional {@code bias[out]}. */
public final class Linear extends Module implements LoraTarget {

    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", out, in);
        this.bias = bias ? param("bias", out) : null;
    }

    private final LowRankAdapters lora = new LowRankAdapters();

    public Tensor forward(Tensor x) {
        Tensor y = x.backend().linear(x, weight.get(), bias == null ? null : bias.get());
        return lora.isEmpty() ? y : lora.sidePath(x, y,
                (in, a) -> in.backend().linear(in.backend().linear(in, a.down(), null), a.up(), null));
    }

    @Override
    public void addLora(String name, Tensor down, Tensor up, float scale) {
        // kohya stores the pair of a 1x1-convolution-shaped target as [r, in, 1, 1] / [out, r, 1, 1]
        if (down.rank() == 4 && down.dim(2) == 1 && down.dim(3) == 1) {
            down = down.reshape(down.dim(0), down.dim(1));
        }
        if (up.rank() == 4 && up.dim(2) == 1 && up.dim(3) == 1) {
            up = up.reshape(up.dim(0), up.dim(1));
        }
        if (down.rank() != 2 || up.rank() != 2 || down.dim(1) != in || up.dim(0) != out || up.dim(1) != down.dim(0)) {
            throw new IllegalArgumentException("LoRA " + name + " does not fit a linear layer " + in + " -> " + out
                    + ": down " + java.util.Arrays.toString(down.shape()) + " (expected [r, " + in + "]), up "
                    + java.util.Arrays.toString(up.shape()) + " (expected [" + out + ", r] with the same rank r)");
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

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }
}
