package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Backend;
import java.util.List;
import java.util.Objects;

/**
 * Options of {@code AutoPipelineFor*.fromPretrained}: PAG on or off and its layers, whether to
 * prefer {@code *.fp16.safetensors} weight variants, and the backend the denoiser and VAE run on
 * (their weights are moved there once, at load).
 */
public record PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16, Backend backend) {

    public PipelineOptions {
        Objects.requireNonNull(backend, "backend");
    }

    /** On the CPU backend. */
    public PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16) {
        this(enablePag, pagAppliedLayers, preferFp16, Backend.cpu());
    }

    /** PAG off; layers null: each pipeline's own default ({@code ["mid"]} for SDXL, {@code ["blocks.1"]} for PixArt). */
    public static PipelineOptions defaults() {
        return new PipelineOptions(false, null, true);
    }

    public static PipelineOptions pag(List<String> layers) {
        return new PipelineOptions(true, layers, true);
    }

    /** These options on another backend (e.g. {@code BackendProvider.open("opencl")}). */
    public PipelineOptions backend(Backend target) {
        return new PipelineOptions(enablePag, pagAppliedLayers, preferFp16, target);
    }
}
