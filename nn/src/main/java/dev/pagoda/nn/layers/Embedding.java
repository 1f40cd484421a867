package dev.pagoda.nn.layers;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;

/** torch {@code nn.Embedding}: rows of {@code weight[num, dim]} for integer ids. */
public final class Embedding extends Module {

    private final Parameter weight;

    public Embedding(int num, int dim) {
        this.weight = param("weight", num, dim);
    }

    public Tensor forward(Tensor ids) {
        Tensor table = weight.get();
        return table.backend().embedding(table, ids);
    }

    public Parameter weight() {
        return weight;
    }
}
