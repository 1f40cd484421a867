package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

final class FlashAttention {

    private FlashAttention() {
    }

    static Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean[] identityRows) { throw new UnsupportedOperationException("pending"); }
}
