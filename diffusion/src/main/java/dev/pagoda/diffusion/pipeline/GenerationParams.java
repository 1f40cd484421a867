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
 * @param denoisingStart SDXL img2img: start at this fraction of the schedule instead of {@code strength}
 *                    (diffusers' {@code denoising_start}; the image is then used without added noise, as the
 *                    refiner of an ensemble of experts takes the base's latents); null: strength decides
 * @param denoisingEnd SDXL: stop after this fraction of the schedule (diffusers' {@code denoising_end}; the
 *                    base of an ensemble of experts hands its latents to the refiner); null: run to the end
 * @param aestheticScore SDXL img2img / inpaint with {@code requires_aesthetics_score} (the refiner): the
 *                    positive side's aesthetic-score time id (default 6.0)
 * @param negativeAestheticScore the negative side's aesthetic-score time id (default 2.5)
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
        Double denoisingStart,
        Double denoisingEnd,
        float aestheticScore,
        float negativeAestheticScore) {

    public enum OutputType { LATENT, IMAGE }

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
        if (prompt == null) {
            throw new IllegalArgumentException("prompt must not be null");
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

    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    public Builder toBuilder() {
        Builder b = new Builder(prompt);
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
        b.denoisingStart = denoisingStart;
        b.denoisingEnd = denoisingEnd;
        b.aestheticScore = aestheticScore;
        b.negativeAestheticScore = negativeAestheticScore;
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
        private Double denoisingStart;
        private Double denoisingEnd;
        private float aestheticScore = 6.0f;
        private float negativeAestheticScore = 2.5f;

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

        /** {@code denoising_start}: the refiner side of an ensemble of experts (img2img; null: strength decides). */
        public Builder denoisingStart(Double v) { denoisingStart = v; return this; }

        /** {@code denoising_end}: the base side of an ensemble of experts (null: run to the end). */
        public Builder denoisingEnd(Double v) { denoisingEnd = v; return this; }

        public Builder aestheticScore(float v) { aestheticScore = v; return this; }
        public Builder negativeAestheticScore(float v) { negativeAestheticScore = v; return this; }

        public GenerationParams build() {
            return new GenerationParams(prompt, prompt2, negativePrompt, negativePrompt2, height, width, steps,
                    guidanceScale, pagScale, pagAdaptiveScale, guidanceRescale, strength, image, mask,
                    noise == null ? NoiseSource.seeded(0) : noise, images, originalSize, crops, targetSize,
                    outputType, callback, cancellation, checkFinite, maxSequenceLength,
                    useResolutionBinning, ipImages, ipEmbeds, controlNet, denoisingStart, denoisingEnd,
                    aestheticScore, negativeAestheticScore);
        }
    }
}
