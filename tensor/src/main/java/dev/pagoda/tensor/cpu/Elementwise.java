package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

final class Elementwise {

    private Elementwise() {
    }

    static Tensor add(Tensor a, Tensor b) { throw new UnsupportedOperationException("pending"); }

    static Tensor sub(Tensor a, Tensor b) { throw new UnsupportedOperationException("pending"); }

    static Tensor mul(Tensor a, Tensor b) { throw new UnsupportedOperationException("pending"); }

    static Tensor div(Tensor a, Tensor b) { throw new UnsupportedOperationException("pending"); }

    static Tensor affine(Tensor x, float mul, float add) { throw new UnsupportedOperationException("pending"); }

    static Tensor axpby(float alpha, Tensor x, float beta, Tensor y) { throw new UnsupportedOperationException("pending"); }
}
