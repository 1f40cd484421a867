package dev.pagoda.nn.ipadapter;

import dev.pagoda.tensor.Tensor;

/**
 * An IP-Adapter image projection (diffusers' {@code encoder_hid_proj} entries): turns image-encoder
 * output into the image tokens the decoupled cross-attention reads.
 */
public sealed interface ImageProjector permits ImageProjection, IpAdapterPlusImageProjection {

    /**
     * {@code embeds [N, inputDim]} (plain) or {@code [N, T, inputDim]} (plus) to tokens
     * {@code [N, tokens, crossAttentionDim]}.
     */
    Tensor project(Tensor embeds);

    /**
     * Whether the adapter conditions on the encoder's penultimate hidden state (plus) rather than the
     * projected {@code image_embeds} (plain): diffusers' {@code output_hidden_states}.
     */
    boolean usesHiddenStates();

    /** Channels of the encoder output it takes. */
    int inputDim();

    /** Image tokens per image. */
    int tokens();

    int crossAttentionDim();
}
