package dev.pagoda.nn.t5;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.tensor.Tensor;

/**
 * transformers' {@code T5Block} of the encoder: {@code layer.0} is pre-norm self-attention and
 * {@code layer.1} the pre-norm feed-forward, each added to the residual stream.
 */
final class T5Block extends Module {

    private final LayerSelfAttention selfAttention;
    private final LayerFF ff;

    T5Block(T5Config c, boolean hasRelativeAttentionBias) {
        ModuleList<Module> layer = child("layer", new ModuleList<>());
        this.selfAttention = layer.add(new LayerSelfAttention(c, hasRelativeAttentionBias));
        this.ff = layer.add(new LayerFF(c));
    }

    T5Attention attention() {
        return selfAttention.attention;
    }

    Tensor forward(Tensor x, Tensor positionBias) {
        var be = x.backend();
        Tensor h = be.add(x, selfAttention.attention.forward(selfAttention.layerNorm.forward(x), positionBias));
        return be.add(h, ff.denseReluDense.forward(ff.layerNorm.forward(h)));
    }

    /** {@code T5LayerSelfAttention}. */
    static final class LayerSelfAttention extends Module {
        final T5Attention attention;
        final T5LayerNorm layerNorm;

        LayerSelfAttention(T5Config c, boolean hasRelativeAttentionBias) {
            this.attention = child("SelfAttention", new T5Attention(c, hasRelativeAttentionBias));
            this.layerNorm = child("layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        }
    }

    /** {@code T5LayerFF}. */
    static final class LayerFF extends Module {
        final T5DenseActDense denseReluDense;
        final T5LayerNorm layerNorm;

        LayerFF(T5Config c) {
            this.denseReluDense = child("DenseReluDense", new T5DenseActDense(c));
            this.layerNorm = child("layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        }
    }
}
