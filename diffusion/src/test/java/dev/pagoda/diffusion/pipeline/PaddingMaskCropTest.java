package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code padding_mask_crop} in SDXL inpainting against diffusers 0.31's {@code StableDiffusionXLPAGInpaintPipeline}
 * on golden tiny-sdxl (fixture and script: src/test/resources/maskcrop/): the final latents of the cropped
 * run, and the returned image, which is the generated crop pasted back over the original; and the same in SD 1.5
 * ControlNet inpainting ({@code StableDiffusionControlNetPAGInpaintPipeline}), whose control image is cropped too.
 */
class PaddingMaskCropTest {

    static final Path GOLDEN = Path.of(System.getProperty("pagoda.golden"));
    static StableDiffusionXLInpaintPipeline inpaint;
    static BufferedImage init;
    static BufferedImage mask;

    @BeforeAll
    static void load() throws Exception {
        inpaint = AutoPipelineForInpainting.fromPretrained(GOLDEN.resolve("models").resolve("tiny-sdxl"),
                PipelineOptions.pag(List.of("mid")));
        init = ImageSource.load(GOLDEN.resolve("cases/sdxl_inpaint_cfg_pag/input.png").toString());
        mask = png("pipeline_mask.png");
    }

    @AfterAll
    static void close() {
        inpaint.close();
    }

    static BufferedImage png(String name) throws Exception {
        return ImageSource.load(Path.of(PaddingMaskCropTest.class.getResource("/maskcrop/" + name).toURI()).toString());
    }

    static GenerationParams.Builder call() {
        return GenerationParams.builder("a yellow sun in a clear blue sky").steps(4).guidanceScale(5f).pagScale(3f)
                .strength(0.8f).seed(11);
    }

    static double rel(GenerationResult r) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(
                PaddingMaskCropTest.class.getResource("/maskcrop/pipeline.safetensors").toURI()))) {
            return Difference.of(r.latents(), f.tensor("output.latent")).rel();
        }
    }

    @Test
    void theCroppedRunAndItsOverlayMatchDiffusers() throws Exception {
        // no size given: diffusers' SDXL inpainting then works at the UNet's sample size (16 · 8 = 128)
        GenerationResult r = inpaint.generate(call().paddingMaskCrop(6, init, mask).build());
        double rel = rel(r);
        assertTrue(rel <= 2e-4, "output.latent rel error " + rel);
        int worst = overlayError(r, png("pipeline_out.png"), init, mask);
        // the decode matches to ~1e-6; an 8-bit rounding may flip by one level, and the crop's downscale keeps it one
        assertTrue(worst <= 1, "overlay differs from diffusers' PIL output by " + worst + " levels");
        assertEquals("6", r.parameters().get("padding_mask_crop"));
    }

    @Test
    void withoutTheCropTheRunDiffers() throws Exception {
        GenerationResult r = inpaint.generate(call().image(ImageTensors.toTensor(init))
                .mask(ImageTensors.toMask(mask)).build());
        assertTrue(rel(r) > 1e-2, "the whole-image run must not match the cropped one: rel " + rel(r));
    }

    @Test
    void misuseIsANamedError() {
        String latent = assertThrows(IllegalArgumentException.class, () -> call().paddingMaskCrop(6, init, mask)
                .outputType(GenerationParams.OutputType.LATENT).build()).getMessage();
        assertTrue(latent.contains("output type must be IMAGE"), latent);
        String both = assertThrows(IllegalArgumentException.class, () -> call().paddingMaskCrop(6, init, mask)
                .image(ImageTensors.toTensor(init)).build()).getMessage();
        assertTrue(both.contains("do not also give them as tensors"), both);
        BufferedImage small = new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY);
        String size = assertThrows(IllegalArgumentException.class, () -> call().paddingMaskCrop(6, init, small))
                .getMessage();
        assertTrue(size.contains("the mask image is 64x64 but the image is 128x128"), size);
        BufferedImage black = new BufferedImage(128, 128, BufferedImage.TYPE_BYTE_GRAY);
        String empty = assertThrows(IllegalArgumentException.class, () -> inpaint.generate(
                call().paddingMaskCrop(6, init, black).build())).getMessage();
        assertTrue(empty.contains("all black"), empty);
        try (SdxlPipeline t2i = AutoPipelineForText2Image.fromPipe(inpaint, true)) {
            String wrong = assertThrows(IllegalArgumentException.class, () -> t2i.generate(
                    call().paddingMaskCrop(6, init, mask).build())).getMessage();
            assertTrue(wrong.contains("paddingMaskCrop (padding_mask_crop) belongs to the inpainting pipeline"), wrong);
        }
    }

    /** The overlay's largest per-channel difference from diffusers' PNG; kept pixels (mask 0) must be the original's. */
    static int overlayError(GenerationResult r, BufferedImage ref, BufferedImage original, BufferedImage maskImage) {
        int[] got = rgb(ImageTensors.toImage(r.image().narrow(0, 0, 1)));
        int[] want = rgb(ref);
        int[] keep = rgb(original);
        int[] m = gray(maskImage);
        int worst = 0;
        for (int i = 0; i < want.length; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                worst = Math.max(worst, Math.abs((got[i] >> shift & 0xff) - (want[i] >> shift & 0xff)));
            }
            if (m[i] == 0) {
                assertEquals(keep[i] & 0xffffff, got[i] & 0xffffff, "kept pixel " + i);
            }
        }
        return worst;
    }

    @Test
    void sdControlNetInpaintingCropsTheControlImageToo() throws Exception {
        BufferedImage sdInit = ImageSource.load(SdControlNetPipelineTest.resource("sd15cninpaint/init.png").toString());
        BufferedImage sdMask = png("sd_cn_mask.png");
        BufferedImage control = ImageSource.load(SdControlNetPipelineTest.resource("sd15controlnet/control64.png")
                .toString());
        try (StableDiffusionControlNetPAGInpaintPipeline sd = SdPipelines.inpaint(SdControlNetInpaintPipelineTest.sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(SdControlNetInpaintPipelineTest.net()))) {
            // no size given: diffusers takes the init image's (96x64)
            GenerationParams.Builder b = GenerationParams.builder("a photo of an astronaut riding a horse on mars")
                    .steps(4).guidanceScale(7.5f).pagScale(3f).strength(0.75f).seed(12)
                    .controlNet(new ControlNetParams(List.of(control), new float[] {0.7f}, null, null, false, true))
                    .paddingMaskCrop(4, sdInit, sdMask);
            GenerationResult r = sd.generate(b.build());
            try (SafetensorsFile f = SafetensorsFile.open(Path.of(
                    PaddingMaskCropTest.class.getResource("/maskcrop/sd_cn.safetensors").toURI()))) {
                double rel = Difference.of(r.latents(), f.tensor("output.latent")).rel();
                assertTrue(rel <= 2e-4, "sd_cn: output.latent rel error " + rel);
                int worst = overlayError(r, png("sd_cn_out.png"), sdInit, sdMask);
                assertTrue(worst <= 1, "sd_cn overlay differs from diffusers' PIL output by " + worst + " levels");
                // the whole-image inpainting with the same mask lands elsewhere
                GenerationResult whole = sd.generate(b.seed(12).size(64, 96).noPaddingMaskCrop().image(ImageTensors.toTensor(sdInit))
                        .mask(ImageTensors.toMask(sdMask)).build());
                double without = Difference.of(whole.latents(), f.tensor("output.latent")).rel();
                assertTrue(without > 1e-2, "the uncropped run as close as " + without);
            }
        }
        try (StableDiffusionPAGPipeline t2i = SdPipelines.text2Image(SdControlNetInpaintPipelineTest.sd(),
                PipelineOptions.pag(List.of("mid")))) {
            String wrong = assertThrows(IllegalArgumentException.class, () -> t2i.generate(
                    GenerationParams.builder("a cat").steps(2).paddingMaskCrop(4, sdInit, sdMask).build())).getMessage();
            assertTrue(wrong.contains("paddingMaskCrop"), wrong);
        }
    }

    static int[] rgb(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    static int[] gray(BufferedImage img) {
        int[] out = new int[img.getWidth() * img.getHeight()];
        img.getRaster().getSamples(0, 0, img.getWidth(), img.getHeight(), 0, out);
        return out;
    }
}
