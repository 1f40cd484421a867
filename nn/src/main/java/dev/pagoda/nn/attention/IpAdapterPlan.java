package dev.pagoda.nn.attention;

import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * One call's IP-Adapter conditioning (immutable): for each loaded adapter, its image tokens in the
 * batch layout and, per cross-attention module, its {@code to_k_ip}/{@code to_v_ip} weights and
 * scale. A cross-attention module it covers computes diffusers' {@code IPAdapterAttnProcessor2_0}:
 * {@code attn(q, text) + Σ scale_i · attn(q, to_k_ip_i(img_i), to_v_ip_i(img_i))} before
 * {@code to_out}; an adapter whose scale is 0 there is skipped, so scale 0 is exactly no adapter.
 * Like {@link PagPlan} it reaches the modules only through the forward call; nothing is stored on
 * them, so concurrent calls with different images and scales share the modules safely.
 *
 * @param adapters    per adapter: the weights, the tokens and the scales
 * @param imageEmbeds per adapter, the batched image embeds the tokens were projected from
 *                    ({@code added_cond_kwargs["image_embeds"]}), for observers; may be empty
 */
public record IpAdapterPlan(List<Adapter> adapters, List<Tensor> imageEmbeds) {

    public static final IpAdapterPlan NONE = new IpAdapterPlan(List.of(), List.of());

    public IpAdapterPlan {
        adapters = List.copyOf(adapters);
        imageEmbeds = List.copyOf(imageEmbeds);
    }

    /** The image-prompt key/value projections of one adapter on one cross-attention module. */
    public record KeyValue(Linear toKIp, Linear toVIp) {
    }

    /**
     * @param weights per cross-attention module (by instance)
     * @param tokens  image tokens {@code [B, N, crossDim]} in the batch layout
     * @param scales  per cross-attention module; a module absent here has scale 0
     */
    public record Adapter(Map<Attention, KeyValue> weights, Tensor tokens, Map<Attention, Float> scales) {
        public Adapter {
            weights = Map.copyOf(weights);
            scales = Map.copyOf(scales);
        }

        float scale(Attention a) {
            Float s = scales.get(a);
            return s == null ? 0f : s;
        }
    }

    public boolean isEmpty() {
        return adapters.isEmpty();
    }

    /** Whether {@code a} gets image-prompt attention from any adapter (a non-zero scale there). */
    public boolean covers(Attention a) {
        for (Adapter ad : adapters) {
            if (ad.weights().containsKey(a) && ad.scale(a) != 0f) {
                return true;
            }
        }
        return false;
    }

    /** The first {@code rows} rows of every adapter's tokens (the UNet's pre-fork head blocks). */
    public IpAdapterPlan narrow(int rows) {
        if (isEmpty()) {
            return this;
        }
        return new IpAdapterPlan(adapters.stream()
                .map(a -> new Adapter(a.weights(), a.tokens().narrow(0, 0, rows), a.scales()))
                .toList(), List.of());
    }

    /** Adds every covering adapter's image attention for {@code a} to {@code hidden} (before to_out). */
    Tensor addTo(Attention a, Tensor q, Tensor hidden) {
        Backend be = hidden.backend();
        for (Adapter ad : adapters) {
            KeyValue kv = ad.weights().get(a);
            float s = ad.scale(a);
            if (kv == null || s == 0f) {
                continue;
            }
            Tensor img = ad.tokens();
            if (img.dim(0) != q.dim(0)) {
                throw new IllegalArgumentException("IP-Adapter: image tokens for a batch of " + img.dim(0)
                        + " in a batch of " + q.dim(0));
            }
            Tensor ip = be.attention(q, kv.toKIp().forward(img), kv.toVIp().forward(img), a.heads(), a.scale(), null,
                    null);
            hidden = be.add(hidden, be.affine(ip, s, 0f));
        }
        return hidden;
    }
}
