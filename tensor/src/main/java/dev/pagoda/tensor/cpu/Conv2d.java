package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

final class Conv2d {

    private Conv2d() {
    }

    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) { throw new UnsupportedOperationException("pending"); }
}
