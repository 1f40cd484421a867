package dev.pagoda.nn.t5;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Embedding;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * transformers' {@code T5Attention} for the encoder (bidirectional): q, k, v, o without biases, no
 * {@code 1/√d} scaling (T5 folds it into the initialisation), and an additive position bias that
 * only the first block computes from its {@code relative_attention_bias} table and every block
 * then reuses.
 */
final class T5Attention extends Module {

    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final Embedding relativeAttentionBias;
    private final T5Config config;

    T5Attention(T5Config c, boolean hasRelativeAttentionBias) {
        this.config = c;
        this.q = child("q", new Linear(c.dModel(), c.innerDim(), false));
        this.k = child("k", new Linear(c.dModel(), c.innerDim(), false));
        this.v = child("v", new Linear(c.dModel(), c.innerDim(), false));
        this.o = child("o", new Linear(c.innerDim(), c.dModel(), false));
        this.relativeAttentionBias = hasRelativeAttentionBias
                ? child("relative_attention_bias", new Embedding(c.relativeAttentionNumBuckets(), c.numHeads()))
                : null;
    }

    /**
     * @param x            {@code [B, L, d_model]}
     * @param positionBias additive {@code [1 or B, heads, L, L]}: the relative position bias plus the
     *                     attention mask
     */
    Tensor forward(Tensor x, Tensor positionBias) {
        var be = x.backend();
        Tensor attn = be.attention(q.forward(x), k.forward(x), v.forward(x), config.numHeads(), 1f, positionBias, null);
        return o.forward(attn);
    }

    /**
     * {@code compute_bias(L, L)}: the learned bias of each head for every (query i, key j) pair,
     * looked up by {@link #relativePositionBucket} of {@code j − i}, as {@code [1, heads, L, L]}.
     */
    Tensor computeBias(int length) {
        if (relativeAttentionBias == null) {
            throw new IllegalStateException("only the first T5 block has relative_attention_bias");
        }
        int heads = config.numHeads();
        int buckets = config.relativeAttentionNumBuckets();
        float[] table = relativeAttentionBias.weight().get().toFloatArray(); // [buckets, heads]
        int span = 2 * length - 1;
        int[] bucketOf = new int[span];
        for (int d = 0; d < span; d++) {
            bucketOf[d] = relativePositionBucket(d - (length - 1), true, buckets, config.relativeAttentionMaxDistance());
        }
        float[] out = new float[heads * length * length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < length; i++) {
                int row = (h * length + i) * length;
                for (int j = 0; j < length; j++) {
                    out[row + j] = table[bucketOf[j - i + length - 1] * heads + h];
                }
            }
        }
        return Tensor.of(out, 1, heads, length, length);
    }

    /**
     * transformers' {@code _relative_position_bucket}: exact buckets for small distances, then
     * logarithmically wider ones up to {@code maxDistance}; bidirectional adds half the buckets for
     * keys after the query. The logarithm is computed in float32 as torch does, so that distances
     * on a bucket boundary (16, 32, 64 with the defaults) fall where they fall there.
     */
    static int relativePositionBucket(int relativePosition, boolean bidirectional, int numBuckets, int maxDistance) {
        int bucket = 0;
        int n = numBuckets;
        int rp = relativePosition;
        if (bidirectional) {
            n /= 2;
            if (rp > 0) {
                bucket += n;
            }
            rp = Math.abs(rp);
        } else {
            rp = -Math.min(rp, 0);
        }
        int maxExact = n / 2;
        if (rp < maxExact) {
            return bucket + rp;
        }
        float ratio = (float) rp / (float) maxExact;
        float scaled = (float) Math.log(ratio) / (float) Math.log(maxDistance / (double) maxExact) * (float) (n - maxExact);
        long large = maxExact + (long) scaled;
        return bucket + (int) Math.min(large, n - 1);
    }
}
