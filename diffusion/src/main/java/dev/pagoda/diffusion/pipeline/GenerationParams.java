package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.util.List;
import dev.pagoda.tensor.random.NoiseSource;

/**
 * The arguments of an SDXL pipeline call, named and defaulted as diffusers' {@code __call__}. Build
 * with {@link #builder(String)}.
 *
 * @param height      image height in pixels (null: the UNet's sample size × 8, or the input image's)
 * @param strength    img2img / inpaint: how much of the schedule runs (null: 0.3 img2img, 0.9999 inpaint)
 * @param image       img2img / inpaint input, {@code [1, 3, H, W]} in [-1, 1]
 * @param mask        inpaint mask, {@code [1, 1, H, W]} of 0 and 1 (1 = repaint)
 * @param noise       where random draws come from (seeded generator or replay)
 * @param outputType  what {@link GenerationResult} holds beyond the latents
 * @param callback    called after every step; may change the latents or stop the run (null: none)
 * @param cancellation stops the run from another thread (null: not cancellable from outside)
 * @param checkFinite stop with a {@link NonFiniteException} at the first NaN/inf prediction or latent
 *                    (default true)
 * @param maxSequenceLength PixArt: T5 tokens per prompt (default 300, diffusers' {@code max_sequence_length})
 * @param controlNet  ControlNet pipelines: the control images and their options (null: none)
 * @param useResolutionBinning PixArt: generate at the nearest aspect-ratio bin of the model's resolution and
 *                    resize the image back (default true, as diffusers)
 * @param prompts     SDXL: a batch of prompts (diffusers' {@code prompt} as a list; null: the one {@code prompt}).
 *                    Each prompt gets {@code numImagesPerPrompt} images, prompt-major
 * @param prompts2, negativePrompts, negativePrompts2 the lists for {@code prompt_2}, {@code negative_prompt},
 *                    {@code negative_prompt_2} (null: the single string, repeated for every prompt)
 * @param promptEmbeds SDXL {@code prompt_embeds} {@code [B, 77, C1+C2]} instead of encoding the prompt (then
 *                    {@code pooledPromptEmbeds [B, P]} is required); {@code negativePromptEmbeds} and
 *                    {@code negativePooledPromptEmbeds} likewise for the negative side
 * @param latents     {@code latents}: text-to-image start latents {@code [B·n, C, H/8, W/8]} instead of a draw
 *                    (multiplied by the scheduler's initial sigma, as diffusers)
 * @param negativeOriginalSize, negativeCropsCoordsTopLeft, negativeTargetSize SDXL micro-conditioning of the
 *                    uncond rows (null: the same as the positive ones)
 * @param clipSkip    {@code clip_skip}: layers skipped from the end of the text encoders for the positive
 *                    prompt (null: none, i.e. the penultimate layer)
 * @param eta         {@code eta}: DDIM's η (ignored, as in diffusers, by schedulers without it)
 * @param timesteps   custom {@code timesteps} (descending) for schedulers that accept them; then
 *                    {@code numInferenceSteps} is their count
 * @param sigmas      custom {@code sigmas} (the final level included, as diffusers' scheduler takes them)
 * @param maskedImageLatents inpainting: {@code masked_image_latents} {@code [1, 4, H/8, W/8]}, already
 *                    scaled, used instead of VAE-encoding the masked image (no random draw then)
 * @param loraScale   {@code cross_attention_kwargs={"scale": s}}: this call's multiplier of every unfused LoRA
 *                    adapter's update, UNet and text encoders (default 1; fused adapters are not affected,
 *                    as in diffusers)
 * @param denoisingStart SDXL img2img: start at this fraction of the schedule instead of {@code strength}
 *                    (diffusers' {@code denoising_start}; the image is then used without added noise, as the
 *                    refiner of an ensemble of experts takes the base's latents); null: strength decides
 * @param denoisingEnd SDXL: stop after this fraction of the schedule (diffusers' {@code denoising_end}; the
 *                    base of an ensemble of experts hands its latents to the refiner); null: run to the end
 * @param aestheticScore SDXL img2img / inpaint with {@code requires_aesthetics_score} (the refiner): the
 *                    positive side's aesthetic-score time id (default 6.0)
 * @param negativeAestheticScore the negative side's aesthetic-score time id (default 2.5)
 * @param paddingMaskCrop inpainting: diffusers' {@code padding_mask_crop} with the image and mask it needs as
 *                    8-bit images (null: the whole image is inpainted from {@code image} and {@code mask})
 */
public record GenerationParams(
        String prompt,
        String prompt2,
        String negativePrompt,
        String negativePrompt2,
        Integer height,
        Integer width,
        int numInferenceSteps,
        float guidanceScale,
        float pagScale,
        float pagAdaptiveScale,
        float guidanceRescale,
        Float strength,
        Tensor image,
        Tensor mask,
        NoiseSource noise,
        int numImagesPerPrompt,
        int[] originalSize,
        int[] cropsCoordsTopLeft,
        int[] targetSize,
        OutputType outputType,
        StepCallback callback,
        Cancellation cancellation,
        boolean checkFinite,
        int maxSequenceLength,
        boolean useResolutionBinning,
        List<List<BufferedImage>> ipAdapterImages,
        List<Tensor> ipAdapterImageEmbeds,
        ControlNetParams controlNet,
        List<String> prompts,
        List<String> prompts2,
        List<String> negativePrompts,
        List<String> negativePrompts2,
        Tensor promptEmbeds,
        Tensor pooledPromptEmbeds,
        Tensor negativePromptEmbeds,
        Tensor negativePooledPromptEmbeds,
        Tensor latents,
        int[] negativeOriginalSize,
        int[] negativeCropsCoordsTopLeft,
        int[] negativeTargetSize,
        Integer clipSkip,
        float eta,
        float[] timesteps,
        float[] sigmas,
        Tensor maskedImageLatents,
        float loraScale,
        Double denoisingStart,
        Double denoisingEnd,
        float aestheticScore,
        float negativeAestheticScore,
        PaddingMaskCrop paddingMaskCrop) {

    public enum OutputType { LATENT, IMAGE }

    /**
     * diffusers' {@code padding_mask_crop}: inpaint only a box around the mask, widened by {@code padding}
     * pixels and grown to the output's aspect ratio, at the full output size, then paste the result back
     * over {@code image} (see {@link dev.pagoda.diffusion.image.MaskCrop}). diffusers needs PIL images for
     * it, so the image and mask are given as 8-bit images here, not as tensors.
     *
     * @param maskImage white = repaint, the size of {@code image}
     */
    public record PaddingMaskCrop(int padding, BufferedImage image, BufferedImage maskImage) {
        public PaddingMaskCrop {
            if (padding < 0) {
                throw new IllegalArgumentException("padding_mask_crop must be ≥ 0, got " + padding);
            }
            if (image == null || maskImage == null) {
                throw new IllegalArgumentException("padding_mask_crop needs the image and the mask image");
            }
            if (image.getWidth() != maskImage.getWidth() || image.getHeight() != maskImage.getHeight()) {
                throw new IllegalArgumentException("padding_mask_crop: the mask image is " + maskImage.getWidth() + "x"
                        + maskImage.getHeight() + " but the image is " + image.getWidth() + "x" + image.getHeight());
            }
        }
    }

    /**
     * Called after every scheduler step, on the thread running the call (diffusers'
     * {@code callback_on_step_end}): {@link Step#setLatents} replaces the latents, {@link Step#cancel}
     * stops the run.
     */
    @FunctionalInterface
    public interface StepCallback {
        void onStep(Step step);
    }

    public GenerationParams {
        if (paddingMaskCrop != null && (image != null || mask != null)) {
            throw new IllegalArgumentException("with padding_mask_crop the image and mask come from paddingMaskCrop(...);"
                    + " do not also give them as tensors");
        }
        if (paddingMaskCrop != null && outputType != OutputType.IMAGE) {
            throw new IllegalArgumentException("padding_mask_crop pastes the result over the image, so the output"
                    + " type must be IMAGE (as diffusers requires output_type=\"pil\")");
        }
        if (prompts != null) {
            if (prompts.isEmpty() || prompts.stream().anyMatch(java.util.Objects::isNull)) {
                throw new IllegalArgumentException("prompts must be a non-empty list of strings, got " + prompts);
            }
            prompts = List.copyOf(prompts);
            prompt = prompts.get(0);
        }
        if (prompt == null && promptEmbeds == null) {
            throw new IllegalArgumentException("give a prompt or promptEmbeds (diffusers' prompt_embeds)");
        }
        if (prompt != null && promptEmbeds != null) {
            throw new IllegalArgumentException("give prompt or promptEmbeds (prompt_embeds), not both");
        }
        if (negativePromptEmbeds != null && (negativePrompt != null || negativePrompts != null)) {
            throw new IllegalArgumentException("give negativePrompt or negativePromptEmbeds"
                    + " (negative_prompt_embeds), not both");
        }
        int batch = prompts != null ? prompts.size() : promptEmbeds != null ? promptEmbeds.dim(0) : 1;
        prompts2 = batchList("prompts2 (prompt_2)", prompts2, batch);
        negativePrompts = batchList("negativePrompts (negative_prompt)", negativePrompts, batch);
        negativePrompts2 = batchList("negativePrompts2 (negative_prompt_2)", negativePrompts2, batch);
        if (promptEmbeds != null && (promptEmbeds.rank() != 3 || pooledPromptEmbeds != null
                && (pooledPromptEmbeds.rank() != 2 || pooledPromptEmbeds.dim(0) != promptEmbeds.dim(0)))) {
            throw new IllegalArgumentException("promptEmbeds must be [B, tokens, channels] and pooledPromptEmbeds"
                    + " [B, channels], got " + dev.pagoda.tensor.Shapes.str(promptEmbeds.shape()) + " and "
                    + (pooledPromptEmbeds == null ? "none" : dev.pagoda.tensor.Shapes.str(pooledPromptEmbeds.shape())));
        }
        if (negativePromptEmbeds != null && (!java.util.Arrays.equals(negativePromptEmbeds.shape(),
                promptEmbeds != null ? promptEmbeds.shape() : negativePromptEmbeds.shape())
                || negativePromptEmbeds.dim(0) != batch || negativePooledPromptEmbeds != null
                && (negativePooledPromptEmbeds.rank() != 2 || negativePooledPromptEmbeds.dim(0) != batch))) {
            throw new IllegalArgumentException("negativePromptEmbeds must have promptEmbeds' shape and "
                    + batch + " rows (one per prompt), got " + dev.pagoda.tensor.Shapes.str(negativePromptEmbeds.shape())
                    + (negativePooledPromptEmbeds == null ? ""
                            : " and " + dev.pagoda.tensor.Shapes.str(negativePooledPromptEmbeds.shape())));
        }
        if (clipSkip != null && clipSkip < 0) {
            throw new IllegalArgumentException("clipSkip (clip_skip) must be >= 0, got " + clipSkip);
        }
        if (!(eta >= 0) || !Float.isFinite(eta)) {
            throw new IllegalArgumentException("eta must be a finite number >= 0, got " + eta);
        }
        if (!Float.isFinite(loraScale)) {
            throw new IllegalArgumentException("loraScale (cross_attention_kwargs scale) must be finite, got "
                    + loraScale);
        }
        if (timesteps != null && sigmas != null) {
            throw new IllegalArgumentException("give custom timesteps or sigmas, not both");
        }
        if (timesteps != null) {
            timesteps = timesteps.clone();
            if (timesteps.length == 0) {
                throw new IllegalArgumentException("timesteps must not be empty");
            }
            numInferenceSteps = timesteps.length;
        }
        if (sigmas != null) {
            sigmas = sigmas.clone();
            if (sigmas.length < 2) {
                throw new IllegalArgumentException("sigmas must hold at least 2 levels (the last is the final"
                        + " level), got " + sigmas.length);
            }
            numInferenceSteps = sigmas.length - 1;
        }
        if (numInferenceSteps <= 0) {
            throw new IllegalArgumentException("numInferenceSteps must be positive, got " + numInferenceSteps);
        }
        if (numImagesPerPrompt <= 0) {
            throw new IllegalArgumentException("numImagesPerPrompt must be positive, got " + numImagesPerPrompt);
        }
        if (strength != null && !(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        if (height != null && (height <= 0 || height % 8 != 0) || width != null && (width <= 0 || width % 8 != 0)) {
            throw new IllegalArgumentException("height and width must be positive multiples of 8, got " + height + "x"
                    + width);
        }
        if (noise == null) {
            throw new IllegalArgumentException("a noise source (seed or replay) is required");
        }
        if (maxSequenceLength <= 0) {
            throw new IllegalArgumentException("maxSequenceLength must be positive, got " + maxSequenceLength);
        }
        if (ipAdapterImages != null && ipAdapterImageEmbeds != null) {
            throw new IllegalArgumentException("give ip_adapter_image or ip_adapter_image_embeds, not both");
        }
        // diffusers silently ignores values outside (0, 1); here they are an error
        if (denoisingStart != null && !(denoisingStart > 0 && denoisingStart < 1)) {
            throw new IllegalArgumentException("denoisingStart must be in (0, 1), got " + denoisingStart);
        }
        if (denoisingEnd != null && !(denoisingEnd > 0 && denoisingEnd < 1)) {
            throw new IllegalArgumentException("denoisingEnd must be in (0, 1), got " + denoisingEnd);
        }
        if (denoisingStart != null && denoisingEnd != null && denoisingStart >= denoisingEnd) {
            throw new IllegalArgumentException("denoisingStart " + denoisingStart + " must be below denoisingEnd "
                    + denoisingEnd);
        }
        ipAdapterImages = ipAdapterImages == null ? null : ipAdapterImages.stream().map(List::copyOf).toList();
        ipAdapterImageEmbeds = ipAdapterImageEmbeds == null ? null : List.copyOf(ipAdapterImageEmbeds);
    }

    private static List<String> batchList(String what, List<String> list, int batch) {
        if (list == null) {
            return null;
        }
        if (list.size() != batch) {
            throw new IllegalArgumentException(what + " has " + list.size() + " entries but the prompt batch has "
                    + batch + " (give one per prompt)");
        }
        return java.util.Collections.unmodifiableList(new java.util.ArrayList<>(list));
    }

    /** How many prompts the call has (diffusers' {@code batch_size}); each gets {@link #numImagesPerPrompt} images. */
    public int batchSize() {
        return prompts != null ? prompts.size() : promptEmbeds != null ? promptEmbeds.dim(0) : 1;
    }

    /** The prompts, one per batch entry (null entries when the call gives promptEmbeds). */
    public List<String> promptBatch() {
        return prompts != null ? prompts : java.util.Collections.nCopies(batchSize(), prompt);
    }

    public List<String> prompt2Batch() {
        return prompts2 != null ? prompts2 : java.util.Collections.nCopies(batchSize(), prompt2);
    }

    public List<String> negativePromptBatch() {
        return negativePrompts != null ? negativePrompts : java.util.Collections.nCopies(batchSize(), negativePrompt);
    }

    public List<String> negativePrompt2Batch() {
        return negativePrompts2 != null ? negativePrompts2
                : java.util.Collections.nCopies(batchSize(), negativePrompt2);
    }

    /** Whether the call gives no negative prompt at all (diffusers' {@code negative_prompt is None}). */
    public boolean noNegativePrompt() {
        return negativePrompt == null && negativePrompts == null;
    }

    /**
     * The names of the options only the SDXL pipelines take that this call sets (for the other
     * families to refuse by name rather than ignore).
     */
    public List<String> sdxlOnlyOptions() {
        List<String> set = new java.util.ArrayList<>();
        if (prompts != null && prompts.size() > 1 || prompts2 != null || negativePrompts != null
                || negativePrompts2 != null) {
            set.add("prompt lists");
        }
        if (promptEmbeds != null || negativePromptEmbeds != null) {
            set.add("promptEmbeds/negativePromptEmbeds");
        }
        if (negativeOriginalSize != null || negativeCropsCoordsTopLeft != null || negativeTargetSize != null) {
            set.add("negativeOriginalSize/negativeCropsCoordsTopLeft/negativeTargetSize");
        }
        if (clipSkip != null) {
            set.add("clipSkip");
        }
        if (timesteps != null || sigmas != null) {
            set.add("custom timesteps/sigmas");
        }
        if (latents != null) {
            set.add("latents");
        }
        if (eta != 0) {
            set.add("eta");
        }
        if (maskedImageLatents != null) {
            set.add("maskedImageLatents");
        }
        if (loraScale != 1f) {
            set.add("loraScale");
        }
        if (paddingMaskCrop != null) {
            set.add("paddingMaskCrop");
        }
        return set;
    }

    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** A call with a batch of prompts (diffusers' {@code prompt} as a list). */
    public static Builder builder(List<String> prompts) {
        return new Builder(null).prompts(prompts);
    }

    public Builder toBuilder() {
        Builder b = new Builder(prompts != null ? null : prompt);
        b.prompt2 = prompt2;
        b.negativePrompt = negativePrompt;
        b.negativePrompt2 = negativePrompt2;
        b.height = height;
        b.width = width;
        b.steps = numInferenceSteps;
        b.guidanceScale = guidanceScale;
        b.pagScale = pagScale;
        b.pagAdaptiveScale = pagAdaptiveScale;
        b.guidanceRescale = guidanceRescale;
        b.strength = strength;
        b.image = image;
        b.mask = mask;
        b.noise = noise;
        b.images = numImagesPerPrompt;
        b.originalSize = originalSize;
        b.crops = cropsCoordsTopLeft;
        b.targetSize = targetSize;
        b.outputType = outputType;
        b.callback = callback;
        b.cancellation = cancellation;
        b.checkFinite = checkFinite;
        b.maxSequenceLength = maxSequenceLength;
        b.useResolutionBinning = useResolutionBinning;
        b.ipImages = ipAdapterImages;
        b.ipEmbeds = ipAdapterImageEmbeds;
        b.controlNet = controlNet;
        b.prompts = prompts;
        b.prompts2 = prompts2;
        b.negativePrompts = negativePrompts;
        b.negativePrompts2 = negativePrompts2;
        b.promptEmbeds = promptEmbeds;
        b.pooledPromptEmbeds = pooledPromptEmbeds;
        b.negativePromptEmbeds = negativePromptEmbeds;
        b.negativePooledPromptEmbeds = negativePooledPromptEmbeds;
        b.latents = latents;
        b.negativeOriginalSize = negativeOriginalSize;
        b.negativeCrops = negativeCropsCoordsTopLeft;
        b.negativeTargetSize = negativeTargetSize;
        b.clipSkip = clipSkip;
        b.eta = eta;
        b.timesteps = timesteps;
        b.sigmas = sigmas;
        b.maskedImageLatents = maskedImageLatents;
        b.loraScale = loraScale;
        b.denoisingStart = denoisingStart;
        b.denoisingEnd = denoisingEnd;
        b.aestheticScore = aestheticScore;
        b.negativeAestheticScore = negativeAestheticScore;
        b.paddingMaskCrop = paddingMaskCrop;
        return b;
    }

    /** Builder with diffusers' defaults: 50 steps, guidance 5.0, PAG scale 3.0, seed 0. */
    public static final class Builder {
        private final String prompt;
        private String prompt2;
        private String negativePrompt;
        private String negativePrompt2;
        private Integer height;
        private Integer width;
        private int steps = 50;
        private float guidanceScale = 5.0f;
        private float pagScale = 3.0f;
        private float pagAdaptiveScale;
        private float guidanceRescale;
        private Float strength;
        private Tensor image;
        private Tensor mask;
        private NoiseSource noise;
        private int images = 1;
        private int[] originalSize;
        private int[] crops = {0, 0};
        private int[] targetSize;
        private OutputType outputType = OutputType.IMAGE;
        private StepCallback callback;
        private Cancellation cancellation;
        private boolean checkFinite = true;
        private int maxSequenceLength = 300;
        private boolean useResolutionBinning = true;
        private List<List<BufferedImage>> ipImages;
        private List<Tensor> ipEmbeds;
        private ControlNetParams controlNet;
        private List<String> prompts;
        private List<String> prompts2;
        private List<String> negativePrompts;
        private List<String> negativePrompts2;
        private Tensor promptEmbeds;
        private Tensor pooledPromptEmbeds;
        private Tensor negativePromptEmbeds;
        private Tensor negativePooledPromptEmbeds;
        private Tensor latents;
        private int[] negativeOriginalSize;
        private int[] negativeCrops;
        private int[] negativeTargetSize;
        private Integer clipSkip;
        private float eta;
        private float[] timesteps;
        private float[] sigmas;
        private Tensor maskedImageLatents;
        private float loraScale = 1f;
        private Double denoisingStart;
        private Double denoisingEnd;
        private float aestheticScore = 6.0f;
        private float negativeAestheticScore = 2.5f;
        private PaddingMaskCrop paddingMaskCrop;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder prompt2(String v) { prompt2 = v; return this; }
        public Builder negativePrompt(String v) { negativePrompt = v; return this; }
        public Builder negativePrompt2(String v) { negativePrompt2 = v; return this; }
        public Builder size(int h, int w) { height = h; width = w; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder guidanceScale(float v) { guidanceScale = v; return this; }
        public Builder pagScale(float v) { pagScale = v; return this; }
        public Builder pagAdaptiveScale(float v) { pagAdaptiveScale = v; return this; }
        public Builder guidanceRescale(float v) { guidanceRescale = v; return this; }
        public Builder strength(float v) { strength = v; return this; }
        public Builder image(Tensor v) { image = v; return this; }
        public Builder mask(Tensor v) { mask = v; return this; }
        public Builder noise(NoiseSource v) { noise = v; return this; }
        public Builder seed(long seed) { noise = NoiseSource.seeded(seed); return this; }
        public Builder numImagesPerPrompt(int v) { images = v; return this; }
        public Builder originalSize(int h, int w) { originalSize = new int[] {h, w}; return this; }
        public Builder cropsCoordsTopLeft(int top, int left) { crops = new int[] {top, left}; return this; }
        public Builder targetSize(int h, int w) { targetSize = new int[] {h, w}; return this; }
        public Builder outputType(OutputType v) { outputType = v; return this; }
        public Builder callback(StepCallback v) { callback = v; return this; }
        public Builder cancellation(Cancellation v) { cancellation = v; return this; }
        public Builder checkFinite(boolean v) { checkFinite = v; return this; }
        public Builder maxSequenceLength(int v) { maxSequenceLength = v; return this; }
        public Builder useResolutionBinning(boolean v) { useResolutionBinning = v; return this; }

        /** {@code ip_adapter_image}: one image per loaded adapter, in load order. */
        public Builder ipAdapterImage(BufferedImage... perAdapter) {
            ipImages = java.util.Arrays.stream(perAdapter).map(List::of).toList();
            return this;
        }

        /** {@code ip_adapter_image} with several images for some adapters (their tokens are concatenated). */
        public Builder ipAdapterImages(List<List<BufferedImage>> perAdapter) { ipImages = perAdapter; return this; }

        /**
         * {@code ip_adapter_image_embeds}: per adapter, {@code [2, images, ...]} (negative then positive,
         * as {@code prepare_ip_adapter_image_embeds} returns them with guidance) or {@code [1, images, ...]}
         * (positive only; the negative is zeros).
         */
        public Builder ipAdapterImageEmbeds(List<Tensor> perAdapter) { ipEmbeds = perAdapter; return this; }

        /** ControlNet pipelines: the control images, scales, guidance windows and guess mode. */
        public Builder controlNet(ControlNetParams v) { controlNet = v; return this; }

        /** ControlNet pipelines: one control image per net, other ControlNet arguments at their defaults. */
        public Builder controlImage(BufferedImage... perNet) { controlNet = ControlNetParams.of(perNet); return this; }

        /** {@code prompt} as a list: a batch of prompts, each with {@code numImagesPerPrompt} images. */
        public Builder prompts(List<String> v) {
            if (prompt != null) {
                throw new IllegalArgumentException("a builder made with builder(prompt) cannot take prompts(list):"
                        + " use builder(list)");
            }
            prompts = v;
            return this;
        }
        public Builder prompts2(List<String> v) { prompts2 = v; return this; }
        public Builder negativePrompts(List<String> v) { negativePrompts = v; return this; }
        public Builder negativePrompts2(List<String> v) { negativePrompts2 = v; return this; }

        /** {@code prompt_embeds} and {@code pooled_prompt_embeds} instead of a prompt (build with {@code builder(null)}). */
        public Builder promptEmbeds(Tensor embeds, Tensor pooled) {
            promptEmbeds = embeds;
            pooledPromptEmbeds = pooled;
            return this;
        }

        /** {@code negative_prompt_embeds} and {@code negative_pooled_prompt_embeds}. */
        public Builder negativePromptEmbeds(Tensor embeds, Tensor pooled) {
            negativePromptEmbeds = embeds;
            negativePooledPromptEmbeds = pooled;
            return this;
        }

        /** {@code latents}: the text-to-image start (not yet multiplied by the initial sigma). */
        public Builder latents(Tensor v) { latents = v; return this; }
        public Builder negativeOriginalSize(int h, int w) { negativeOriginalSize = new int[] {h, w}; return this; }
        public Builder negativeCropsCoordsTopLeft(int top, int left) { negativeCrops = new int[] {top, left}; return this; }
        public Builder negativeTargetSize(int h, int w) { negativeTargetSize = new int[] {h, w}; return this; }
        public Builder clipSkip(Integer v) { clipSkip = v; return this; }
        public Builder eta(float v) { eta = v; return this; }

        /** Custom {@code timesteps} (descending); the step count becomes their number. */
        public Builder timesteps(float... v) { timesteps = v; return this; }

        /** Custom {@code sigmas}, the final level included; the step count becomes their number minus one. */
        public Builder sigmas(float... v) { sigmas = v; return this; }

        /** {@code cross_attention_kwargs={"scale": v}}: this call's LoRA scale (default 1). */
        public Builder loraScale(float v) { loraScale = v; return this; }

        /** Inpainting: {@code masked_image_latents} (scaled latents of the masked image) instead of encoding it. */
        public Builder maskedImageLatents(Tensor v) { maskedImageLatents = v; return this; }

        /**
         * {@code generator} as a list: image {@code i} of the batch draws from {@code perImage.get(i)}
         * (one per prompt × image).
         */
        public Builder generators(List<? extends NoiseSource> perImage) {
            noise = NoiseSource.perImage(perImage);
            return this;
        }
        /** {@code denoising_start}: the refiner side of an ensemble of experts (img2img; null: strength decides). */
        public Builder denoisingStart(Double v) { denoisingStart = v; return this; }

        /** {@code denoising_end}: the base side of an ensemble of experts (null: run to the end). */
        public Builder denoisingEnd(Double v) { denoisingEnd = v; return this; }

        public Builder aestheticScore(float v) { aestheticScore = v; return this; }
        public Builder negativeAestheticScore(float v) { negativeAestheticScore = v; return this; }

        /**
         * Inpainting with {@code padding_mask_crop}: the image and mask (white = repaint) as 8-bit images, and the
         * padding in pixels around the mask's bounding box. Replaces {@code image(...)} and {@code mask(...)}.
         */
        public Builder paddingMaskCrop(int padding, BufferedImage image, BufferedImage maskImage) {
            paddingMaskCrop = new PaddingMaskCrop(padding, image, maskImage);
            return this;
        }

        /** Removes a {@link #paddingMaskCrop(int, BufferedImage, BufferedImage)} given before. */
        public Builder noPaddingMaskCrop() { paddingMaskCrop = null; return this; }

        public GenerationParams build() {
            return new GenerationParams(prompt, prompt2, negativePrompt, negativePrompt2, height, width, steps,
                    guidanceScale, pagScale, pagAdaptiveScale, guidanceRescale, strength, image, mask,
                    noise == null ? NoiseSource.seeded(0) : noise, images, originalSize, crops, targetSize,
                    outputType, callback, cancellation, checkFinite, maxSequenceLength,
                    useResolutionBinning, ipImages, ipEmbeds, controlNet, prompts, prompts2, negativePrompts,
                    negativePrompts2, promptEmbeds, pooledPromptEmbeds, negativePromptEmbeds,
                    negativePooledPromptEmbeds, latents, negativeOriginalSize, negativeCrops, negativeTargetSize,
                    clipSkip, eta, timesteps, sigmas, maskedImageLatents, loraScale, denoisingStart,
                    denoisingEnd, aestheticScore, negativeAestheticScore, paddingMaskCrop);
        }
    }
}
