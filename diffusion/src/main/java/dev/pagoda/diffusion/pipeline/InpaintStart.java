package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.MaskCrop;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.PerImageNoise;
import java.util.Collections;

/**
 * The start of an inpainting call and its per-step hooks, shared by SDXL inpainting and SD 1.x/2.x
 * ControlNet inpainting (diffusers' {@code prepare_latents} / {@code prepare_mask_latents} of the
 * inpaint pipelines, which agree): the masked image {@code image · (mask < 0.5)}, the mask resized to
 * the latent grid with torch's nearest mode, the 4-channel blend {@code (1 − m)·known + m·latents}
 * after every step, or the 9-channel UNet input {@code [latents, mask, masked-image latents]}.
 *
 * <p>Random draws in diffusers' order: #0 samples the VAE encoding of the image, #1 is the noise for the
 * initial latents (reused to re-noise the known region after each step), #2 samples the encoding of the
 * masked image; a 9-channel UNet at strength 1 (or with given latents) skips the image encoding and its draw.
 */
final class InpaintStart {

    /** VAE-encodes an image {@code [1, 3, H, W]} and samples the distribution with {@code noise} (host result). */
    interface Encoder {
        Tensor encode(Tensor image, Tensor noise);
    }

    private InpaintStart() {
    }

    /**
     * The call's start.
     *
     * @param latentImages    whether an image with the VAE's latent channels is taken as latents (SDXL's
     *                        {@code denoising_start} hand-off)
     * @param defaultStrength the pipeline's {@code strength} default
     * @throws IllegalArgumentException naming the input that does not fit
     */
    static SdxlPipeline.Start prepare(GenerationParams p, Scheduler scheduler, AutoencoderKL vae, Encoder encoder,
            boolean nineChannel, boolean latentImages, float defaultStrength, int h, int w, int n) {
        int lat = vae.config().latentChannels();
        int s = vae.scale();
        Tensor image = p.image();
        Tensor mask = p.mask();
        GenerationParams.PaddingMaskCrop cropInput = p.paddingMaskCrop();
        MaskCrop crop = null;
        if (cropInput != null) {
            // the box around the mask, inpainted at the full h×w (diffusers' resize_mode="fill")
            crop = MaskCrop.region(cropInput.maskImage(), w, h, cropInput.padding());
            image = crop.image(cropInput.image(), w, h);
            mask = crop.mask(cropInput.maskImage(), w, h);
        }
        // diffusers' image.shape[1] == 4: the image is latents (a base's hand-off under denoising_start)
        boolean latentImage = latentImages && StableDiffusionXLImg2ImgPipeline.isLatents(image, lat);
        if (latentImage) {
            SdxlPipeline.requireImage("image (latents)", image, lat, h / s, w / s);
            if (nineChannel && p.maskedImageLatents() == null) {
                throw new IllegalArgumentException("a 9-channel inpainting UNet given latents as the image also needs"
                        + " maskedImageLatents (masked_image_latents): there is no image to mask");
            }
        } else {
            SdxlPipeline.requireImage("image", image, 3, h, w);
        }
        if (mask == null) {
            throw new IllegalArgumentException("mask is required for inpainting");
        }
        if (mask.rank() != 4 || mask.dim(2) != h || mask.dim(3) != w) {
            throw new IllegalArgumentException("mask size " + mask.dim(mask.rank() - 2) + "x"
                    + mask.dim(mask.rank() - 1) + " differs from the image size " + h + "x" + w);
        }
        float strength = p.strength() == null ? defaultStrength : p.strength();
        scheduler.setSchedule(p.numInferenceSteps(), p.timesteps(), p.sigmas()); // retrieve_timesteps
        float[] ts = p.denoisingStart() != null ? scheduler.keepBelowDenoisingStart(p.numInferenceSteps(), p.denoisingStart())
                : scheduler.keepStrengthTail(p.numInferenceSteps(), strength);
        Backend be = Backend.cpu();
        // masked image: the pixels to keep (mask < 0.5), the rest zeroed
        float[] mv = mask.toFloatArray();
        float[] keep = new float[mv.length];
        for (int i = 0; i < mv.length; i++) {
            keep[i] = mv[i] < 0.5f ? 1f : 0f;
        }
        Tensor maskedImage = latentImage ? null : be.mul(image, Tensor.of(keep, 1, 1, h, w));

        boolean strengthMax = strength == 1.0f;
        // the one-row encodes draw from the first generator of a list, as diffusers' _encode_vae_image does
        NoiseSource one = p.noise() instanceof PerImageNoise list ? list.first() : p.noise();
        // diffusers encodes the image only where it is used: a 9-channel UNet starting from pure
        // noise never reads it, and skipping it leaves the draw to the initial noise.
        // Given latents are diffusers' noise: the start is latents x init sigma whatever the strength, and a
        // 9-channel UNet then never reads the image latents.
        int[] shape = {n, lat, h / s, w / s};
        Tensor givenLatents = DenoiseLoop.givenLatents(p, shape);
        boolean given = givenLatents != null;
        Tensor imageLatents = latentImage ? repeat(image.contiguous(), n)
                : nineChannel && (strengthMax || given) ? null
                : repeat(vae.scaleLatentsPlain(encoder.encode(image, one.next(1, lat, h / s, w / s))), n);
        Tensor initNoise = given ? givenLatents : p.noise().next(shape);
        // denoising_start (diffusers' add_noise=False): the image latents are the start; the noise still feeds
        // the 4-channel blend
        Tensor latents = p.denoisingStart() != null && !given ? imageLatents
                : strengthMax || given ? be.affine(initNoise, scheduler.initNoiseSigma(), 0f)
                : scheduler.addNoise(imageLatents, initNoise, ts[0]);
        Tensor latentMask = repeat(nearest(mask, h / s, w / s), n);
        Tensor maskedImageLatents = p.maskedImageLatents() != null
                ? repeat(givenMaskedLatents(p, lat, h / s, w / s), n)
                : maskedImage == null ? null // latents as the image: nothing to mask (and no draw), as diffusers
                : repeat(vae.scaleLatentsPlain(encoder.encode(maskedImage, one.next(1, lat, h / s, w / s))), n);
        return new Blend(latents, ts, nineChannel, imageLatents, initNoise, latentMask, maskedImageLatents, crop,
                cropInput);
    }

    /** diffusers' {@code masked_image_latents}: used as given (already scaled), one row. */
    private static Tensor givenMaskedLatents(GenerationParams p, int channels, int lh, int lw) {
        Tensor m = p.maskedImageLatents();
        if (m.rank() != 4 || m.dim(0) != 1 || m.dim(1) != channels || m.dim(2) != lh || m.dim(3) != lw) {
            throw new IllegalArgumentException("maskedImageLatents (masked_image_latents) must be [1, " + channels + ", "
                    + lh + ", " + lw + "] (the masked image's scaled latents), got "
                    + dev.pagoda.tensor.Shapes.str(m.shape()));
        }
        return m.contiguous();
    }

    private static Tensor repeat(Tensor x, int n) {
        return n == 1 ? x : Backend.cpu().concat(0, Collections.nCopies(n, x).toArray(Tensor[]::new));
    }

    /** One call's blending state: the known region, its noise, the mask and the masked-image latents. */
    private static final class Blend extends SdxlPipeline.Start {
        private final boolean nineChannel;
        private final Tensor imageLatents;
        private final Tensor initNoise;
        private final Tensor latentMask;
        private final Tensor maskedImageLatents;
        private final MaskCrop crop;
        private final GenerationParams.PaddingMaskCrop cropInput;

        Blend(Tensor latents, float[] ts, boolean nineChannel, Tensor imageLatents, Tensor initNoise,
                Tensor latentMask, Tensor maskedImageLatents, MaskCrop crop, GenerationParams.PaddingMaskCrop cropInput) {
            super(latents, ts);
            this.nineChannel = nineChannel;
            this.imageLatents = imageLatents;
            this.initNoise = initNoise;
            this.latentMask = latentMask;
            this.maskedImageLatents = maskedImageLatents;
            this.crop = crop;
            this.cropInput = cropInput;
        }

        /** padding_mask_crop: each image (8-bit, as diffusers' PIL output) pasted back over the original. */
        @Override
        protected Tensor finishImage(Tensor decoded) {
            if (crop == null) {
                return decoded;
            }
            Tensor[] out = new Tensor[decoded.dim(0)];
            for (int i = 0; i < out.length; i++) {
                out[i] = ImageTensors.toTensor(crop.overlay(cropInput.maskImage(), cropInput.image(),
                        ImageTensors.toImage(decoded.narrow(0, i, 1))));
            }
            return out.length == 1 ? out[0] : Backend.cpu().concat(0, out);
        }

        @Override
        protected Tensor extendInput(Tensor scaledInput, GuidedBatch batch) {
            if (!nineChannel) {
                return scaledInput;
            }
            return Backend.cpu().concat(1, scaledInput, batch.repeat(latentMask), batch.repeat(maskedImageLatents));
        }

        @Override
        protected Tensor afterStep(Tensor latents, Scheduler scheduler, int step, float[] ts) {
            if (nineChannel) {
                return latents;
            }
            return blend(latents, scheduler, step, ts);
        }

        private Tensor blend(Tensor latents, Scheduler scheduler, int step, float[] ts) {
            Tensor known = imageLatents;
            if (step < ts.length - 1) {
                known = scheduler.addNoise(imageLatents, initNoise, ts[step + 1]);
            }
            // (1 - m)·known + m·latents, in torch's order
            float[] k = known.toFloatArray();
            float[] l = latents.toFloatArray();
            float[] m = latentMask.toFloatArray();
            int plane = m.length / latentMask.dim(0);
            float[] out = new float[l.length];
            int channels = latents.dim(1);
            for (int b = 0; b < latents.dim(0); b++) {
                for (int c = 0; c < channels; c++) {
                    for (int i = 0; i < plane; i++) {
                        int idx = (b * channels + c) * plane + i;
                        float mm = m[b * plane + i];
                        out[idx] = (1 - mm) * k[idx] + mm * l[idx];
                    }
                }
            }
            return Tensor.of(out, latents.shape());
        }
    }

    /** {@code F.interpolate(mask, size=(h, w))} with torch's default nearest mode. */
    private static Tensor nearest(Tensor mask, int h, int w) {
        int mh = mask.dim(2);
        int mw = mask.dim(3);
        float[] src = mask.toFloatArray();
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            int sy = Math.min((int) Math.floor(y * ((double) mh / h)), mh - 1);
            for (int x = 0; x < w; x++) {
                int sx = Math.min((int) Math.floor(x * ((double) mw / w)), mw - 1);
                out[y * w + x] = src[sy * mw + sx];
            }
        }
        return Tensor.of(out, 1, 1, h, w);
    }
}
