package dev.pagoda.diffusion.ipadapter;

import dev.pagoda.diffusion.image.ClipImageProcessor;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.ipadapter.IpAdapter;
import dev.pagoda.nn.ipadapter.IpAdapterException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The IP-Adapter setting of a set of pipeline components (immutable; swapped as a whole): the loaded
 * adapters in load order, each adapter's scale per cross-attention module, the image encoder and
 * the feature extractor. diffusers keeps this on the UNet's attention processors, so
 * {@code from_pipe} siblings share it; here the components hold it and every call reads it once.
 *
 * @param imageEncoder      null when none is loaded (then only {@code ip_adapter_image_embeds} work)
 * @param featureExtractor  null when there is no image encoder
 */
public record IpAdapters(List<IpAdapter> adapters, List<Map<Attention, Float>> scales, ClipVisionModel imageEncoder,
        ClipImageProcessor featureExtractor) {

    public static final IpAdapters NONE = new IpAdapters(List.of(), List.of(), null, null);

    public IpAdapters {
        adapters = List.copyOf(adapters);
        scales = scales.stream().map(m -> java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m))).toList();
        if (adapters.size() != scales.size()) {
            throw new IllegalArgumentException(adapters.size() + " adapters with " + scales.size() + " scale maps");
        }
        if (imageEncoder != null) {
            int have = imageEncoder.config().hiddenSize();
            int proj = imageEncoder.config().projectionDim();
            for (IpAdapter a : adapters) {
                int want = a.projection().inputDim();
                int got = a.projection().usesHiddenStates() ? have : proj;
                if (want != got) {
                    throw new IpAdapterException(a.source() + ": the image projection takes "
                            + (a.projection().usesHiddenStates() ? "hidden states" : "image embeds") + " of " + want
                            + " channels, but the image encoder gives " + got
                            + (a.projection().usesHiddenStates() ? " (hidden_size)" : " (projection_dim)"));
                }
            }
        }
    }

    /** The given adapters replacing any loaded before (as {@code load_ip_adapter}), each at scale 1.0. */
    public static IpAdapters of(List<IpAdapter> adapters, ClipVisionModel encoder, ClipImageProcessor fe) {
        List<Map<Attention, Float>> scales = new ArrayList<>();
        for (IpAdapter a : adapters) {
            Map<Attention, Float> s = new LinkedHashMap<>();
            a.crossAttention().values().forEach(m -> s.put(m, 1.0f));
            scales.add(s);
        }
        return new IpAdapters(adapters, scales, encoder, fe);
    }

    public boolean isEmpty() {
        return adapters.isEmpty();
    }

    /** With new scales ({@link IpAdapterScales} configs: one per adapter, or one for all). */
    public IpAdapters withScales(List<?> configs) {
        if (isEmpty()) {
            throw new IpAdapterException("set_ip_adapter_scale: no IP-Adapter is loaded");
        }
        return new IpAdapters(adapters, IpAdapterScales.apply(adapters.get(0).crossAttention(), scales, configs),
                imageEncoder, featureExtractor);
    }
}
