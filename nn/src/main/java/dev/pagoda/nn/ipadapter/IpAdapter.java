package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.tensor.Backend;
import java.util.List;
import java.util.Map;

/**
 * One loaded IP-Adapter: its image projection and, for every cross-attention module of the UNet it
 * was loaded onto, the {@code to_k_ip}/{@code to_v_ip} projections (diffusers keeps them on the
 * {@code IPAdapterAttnProcessor}s; here they stay with the adapter so the UNet itself is unchanged
 * and {@code unload_ip_adapter} is dropping this object).
 *
 * @param source      the file it came from, for messages
 * @param projection  the image projection ({@link ImageProjection} or {@link IpAdapterPlusImageProjection})
 * @param crossAttention the UNet's cross-attention modules in diffusers' processor order, with their names
 * @param weights     per cross-attention module
 */
public record IpAdapter(String source, ImageProjector projection, Map<String, Attention> crossAttention,
        Map<Attention, IpAdapterPlan.KeyValue> weights) {

    public IpAdapter {
        crossAttention = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(crossAttention));
        weights = Map.copyOf(weights);
    }

    /** Moves the projection and the key/value weights to {@code backend}'s memory. */
    public IpAdapter to(Backend backend) {
        ((Module) projection).to(backend);
        for (IpAdapterPlan.KeyValue kv : weights.values()) {
            kv.toKIp().to(backend);
            kv.toVIp().to(backend);
        }
        return this;
    }

    /** Bytes of the adapter's weights in their stored dtypes. */
    public long parameterBytes() {
        long b = ((Module) projection).parameterBytes();
        for (IpAdapterPlan.KeyValue kv : weights.values()) {
            b += kv.toKIp().parameterBytes() + kv.toVIp().parameterBytes();
        }
        return b;
    }

    /** The names of the cross-attention modules, in processor order. */
    public List<String> layerNames() {
        return List.copyOf(crossAttention.keySet());
    }
}
