package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a pipeline call produced: diffusers' {@code output_type} "latent" ({@link #latents}), "pt"
 * ({@link #pt}) and "np" ({@link #numpy}); {@code ImageTensors.toImage} gives "pil". {@link #image} is the
 * VAE's raw output before that post-processing.
 *
 * @param latents    final latents {@code [n, 4, H/8, W/8]} in pipeline (scaled) space
 * @param image      decoded images {@code [n, 3, H, W]} in about [-1, 1], or null for latent output
 * @param parameters the call's settings as PNG text chunks (prompt, steps, scales, PAG layers,
 *                   scheduler, size), written by {@link #save}
 */
public record GenerationResult(Tensor latents, Tensor image, Map<String, String> parameters) {

    public GenerationResult {
        parameters = parameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    public GenerationResult(Tensor latents, Tensor image) {
        this(latents, image, Map.of());
    }

    /** The images {@code [n, 3, H, W]} in [0, 1], as diffusers' {@code output_type="pt"} returns them. */
    public Tensor pt() {
        requireImage();
        float[] v = image.contiguous().toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.min(Math.max(v[i] / 2f + 0.5f, 0f), 1f);
        }
        return Tensor.of(v, image.shape());
    }

    /** The images as a float array tensor {@code [n, H, W, 3]} in [0, 1] (diffusers' "np"). */
    public Tensor numpy() {
        requireImage();
        return ImageTensors.toNumpyLayout(image);
    }

    /**
     * Writes image 0 as a PNG with {@link #parameters} in tEXt chunks (diffusers' {@code images[0].save}),
     * atomically: an existing file is replaced only once the new one is complete.
     *
     * @throws IllegalStateException                          for a latent-only result
     * @throws dev.pagoda.diffusion.image.ImageException      when the folder does not exist or cannot be written
     */
    public void save(Path file) {
        save(file, 0);
    }

    /** Writes image {@code index} (of {@code numImagesPerPrompt}) as {@link #save(Path)} does. */
    public void save(Path file, int index) {
        requireImage();
        if (index < 0 || index >= image.dim(0)) {
            throw new IndexOutOfBoundsException("image " + index + " of a result with " + image.dim(0) + " images");
        }
        Map<String, String> own = parameters;
        if (parameters.containsKey("prompts")) {
            own = new LinkedHashMap<>(parameters);
            String[] prompts = parameters.get("prompts").split("\n", -1);
            int perPrompt = Integer.parseInt(parameters.get("images_per_prompt"));
            own.put("prompt", prompts[Math.min(index / perPrompt, prompts.length - 1)]);
        }
        PngWriter.write(ImageTensors.toImage(image.narrow(0, index, 1)), own, file);
    }

    /**
     * The PNG text chunks of a call (the keys {@code pagoda generate} and the studio write).
     *
     * @param pagLayers the PAG layer setting as written ({@code "mid,down_blocks.2"}, with
     *                  {@code " (strict)"} in strict mode), or null when the call ran without PAG
     */
    static Map<String, String> describe(GenerationParams p, String pipeline, String scheduler, String pagLayers,
            int height, int width) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("prompt", p.prompt() != null ? p.prompt() : "(prompt_embeds)");
        if (p.batchSize() > 1 && p.prompts() != null) {
            // save(file, i) names image i's own prompt: prompt-major, numImagesPerPrompt each
            m.put("prompts", String.join("\n", p.prompts()));
            m.put("images_per_prompt", Integer.toString(p.numImagesPerPrompt()));
        }
        if (p.negativePrompt() != null) {
            m.put("negative_prompt", p.negativePrompt());
        }
        m.put("steps", Integer.toString(p.numInferenceSteps()));
        m.put("guidance_scale", Float.toString(p.guidanceScale()));
        m.put("pag_scale", Float.toString(pagLayers == null ? 0f : p.pagScale()));
        if (pagLayers != null) {
            m.put("pag_applied_layers", pagLayers);
            if (p.pagAdaptiveScale() > 0) {
                m.put("pag_adaptive_scale", Float.toString(p.pagAdaptiveScale()));
            }
        }
        if (p.strength() != null) {
            m.put("strength", Float.toString(p.strength()));
        }
        if (p.clipSkip() != null) {
            m.put("clip_skip", Integer.toString(p.clipSkip()));
        }
        if (p.timesteps() != null) {
            m.put("timesteps", java.util.Arrays.toString(p.timesteps()));
        }
        if (p.sigmas() != null) {
            m.put("sigmas", java.util.Arrays.toString(p.sigmas()));
        }
        if (p.denoisingStart() != null) {
            m.put("denoising_start", Double.toString(p.denoisingStart()));
        }
        if (p.denoisingEnd() != null) {
            m.put("denoising_end", Double.toString(p.denoisingEnd()));
        }
        if (p.aestheticScore() != 6.0f || p.negativeAestheticScore() != 2.5f) {
            m.put("aesthetic_score", Float.toString(p.aestheticScore()));
            m.put("negative_aesthetic_score", Float.toString(p.negativeAestheticScore()));
        }
        if (p.eta() != 0) {
            m.put("eta", Float.toString(p.eta()));
        }
        if (p.paddingMaskCrop() != null) {
            m.put("padding_mask_crop", Integer.toString(p.paddingMaskCrop().padding()));
        }
        m.put("size", width + "x" + height);
        m.put("pipeline", pipeline);
        m.put("sampler", scheduler);
        return m;
    }

    private void requireImage() {
        if (image == null) {
            throw new IllegalStateException("this call produced latents only (OutputType.LATENT)");
        }
    }
}
