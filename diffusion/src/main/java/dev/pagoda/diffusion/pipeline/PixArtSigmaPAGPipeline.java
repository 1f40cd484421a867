package dev.pagoda.diffusion.pipeline;

import java.util.List;

/**
 * diffusers' {@code PixArtSigmaPAGPipeline}: {@link PixArtSigmaPipeline} with PAG enabled on
 * {@code pag_applied_layers} (default {@code ["blocks.1"]}, which in diffusers' regex semantics
 * selects every {@code transformer_blocks.1*.attn1}: blocks 1, 10–19).
 */
public final class PixArtSigmaPAGPipeline extends PixArtSigmaPipeline {

    public PixArtSigmaPAGPipeline(PixArtComponents components, List<String> pagAppliedLayers) {
        super(components, true, pagAppliedLayers);
    }
}
