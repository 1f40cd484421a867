package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.vae.AutoencoderKL;
import java.util.List;

/**
 * What every Pagoda pipeline offers a caller that does not care which model family it runs
 * (the CLI, {@link AutoPipelineForText2Image#load}): SDXL pipelines and PixArt-Σ alike.
 */
public interface DiffusionPipeline extends AutoCloseable {

    GenerationResult generate(GenerationParams p);

    List<String> pagAppliedLayers();

    void setPagAppliedLayers(List<String> layers, PagLayers.Mode mode);

    /** Another scheduler class with the model's scheduler config, or null for the config's own class. */
    void setScheduler(String className);

    void setStageListener(SdxlPipeline.StageListener listener);

    /** The VAE (e.g. to turn tiling on). */
    AutoencoderKL vae();

    /** The default image size in pixels (the denoiser's sample size × the VAE scale). */
    int defaultImageSize();

    @Override
    void close();
}
