package dev.pagoda.diffusion.pipeline;

import java.util.List;

/**
 * Options of {@code AutoPipelineFor*.fromPretrained}: PAG on or off and its layers, and whether to
 * prefer {@code *.fp16.safetensors} weight variants.
 */
public record PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16) {

    public static PipelineOptions defaults() {
        return new PipelineOptions(false, List.of("mid"), true);
    }

    public static PipelineOptions pag(List<String> layers) {
        return new PipelineOptions(true, layers, true);
    }
}
