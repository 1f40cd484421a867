package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

final class Embedding {

    private Embedding() {
    }

    static Tensor lookup(Tensor table, Tensor ids) { throw new UnsupportedOperationException("pending"); }

    static Tensor timestep(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift, float scale, int maxPeriod) { throw new UnsupportedOperationException("pending"); }
}
