package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.tensor.Backend;
import java.util.List;
import java.util.Objects;

/**
 * Options of {@code AutoPipelineFor*.fromPretrained}: PAG on or off and its layers, whether to
 * prefer {@code *.fp16.safetensors} weight variants (diffusers' {@code variant="fp16"}; off by default,
 * as diffusers' {@code variant=None}: a part with only fp16 files still loads them), the backend the denoiser and VAE run on
 * (their weights are moved there once, at load), and ControlNets (diffusers' {@code controlnet=}:
 * with any, text-to-image and image-to-image load the ControlNet pipelines).
 */
public record PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16, Backend backend,
        List<ControlNetModel> controlnet) {

    public PipelineOptions {
        Objects.requireNonNull(backend, "backend");
        controlnet = controlnet == null ? List.of() : List.copyOf(controlnet);
    }

    public PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16, Backend backend) {
        this(enablePag, pagAppliedLayers, preferFp16, backend, List.of());
    }

    /** On the CPU backend. */
    public PipelineOptions(boolean enablePag, List<String> pagAppliedLayers, boolean preferFp16) {
        this(enablePag, pagAppliedLayers, preferFp16, Backend.cpu());
    }

    /** PAG off; layers null: each pipeline's own default ({@code ["mid"]} for SDXL, {@code ["blocks.1"]} for PixArt). */
    public static PipelineOptions defaults() {
        return new PipelineOptions(false, null, false);
    }

    public static PipelineOptions pag(List<String> layers) {
        return new PipelineOptions(true, layers, false);
    }

    /** These options with diffusers' {@code variant="fp16"} ({@code true}) or {@code variant=None}. */
    public PipelineOptions fp16Variant(boolean prefer) {
        return new PipelineOptions(enablePag, pagAppliedLayers, prefer, backend, controlnet);
    }

    /** These options on another backend (e.g. {@code BackendProvider.open("opencl")}). */
    public PipelineOptions backend(Backend target) {
        return new PipelineOptions(enablePag, pagAppliedLayers, preferFp16, target, controlnet);
    }

    /**
     * These options with ControlNets ({@code controlnet=net} or a list for a {@code MultiControlNetModel});
     * the pipeline moves them to its backend and closes them when it is closed.
     */
    public PipelineOptions controlnet(ControlNetModel... nets) {
        return new PipelineOptions(enablePag, pagAppliedLayers, preferFp16, backend, List.of(nets));
    }
}
