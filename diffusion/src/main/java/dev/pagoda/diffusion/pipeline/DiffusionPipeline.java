package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.scheduler.SchedulerChoice;
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
    default void setScheduler(String className) {
        setScheduler(SchedulerChoice.of(className));
    }

    /**
     * A scheduler class (null = the model's own) with overrides of the model's scheduler config,
     * e.g. {@code new SchedulerChoice("DPMSolverMultistepScheduler", Map.of("use_karras_sigmas", true))}.
     */
    void setScheduler(SchedulerChoice choice);

    void setStageListener(SdxlPipeline.StageListener listener);

    /** The VAE (e.g. to turn tiling on). */
    AutoencoderKL vae();

    /** The default image size in pixels (the denoiser's sample size × the VAE scale). */
    int defaultImageSize();

    @Override
    void close();
}
