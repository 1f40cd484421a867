package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

final class Activations {

    private Activations() {
    }

    static Tensor gelu(Tensor x, boolean tanh) { throw new UnsupportedOperationException("pending"); }

    static Tensor quickGelu(Tensor x) { throw new UnsupportedOperationException("pending"); }

    static Tensor silu(Tensor x) { throw new UnsupportedOperationException("pending"); }

    static Tensor geglu(Tensor x) { throw new UnsupportedOperationException("pending"); }

    static Tensor exp(Tensor x) { throw new UnsupportedOperationException("pending"); }

    static Tensor clamp(Tensor x, float min, float max) { throw new UnsupportedOperationException("pending"); }
}
