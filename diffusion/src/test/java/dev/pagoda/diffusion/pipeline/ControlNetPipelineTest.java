package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.golden.GoldenFixtures;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SDXL ControlNet pipelines' call options and errors on the tiny golden models. */
class ControlNetPipelineTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");
    static final Path NET = GoldenFixtures.vendored().model("tiny-sdxl-controlnet");

    static SdxlPipeline pipe;
    static BufferedImage control;

    @BeforeAll
    static void load() {
        pipe = AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid")).controlnet(ControlNetModel.fromPretrained(NET, false)));
        control = ImageSource.load(GoldenFixtures.vendored().caseDir("sdxl_controlnet_cfg_pag").resolve("control.png")
                .toString());
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    private static GenerationParams.Builder params(ControlNetParams cn) {
        return GenerationParams.builder("a city at night").steps(4).seed(5).size(128, 128).controlNet(cn)
                .outputType(GenerationParams.OutputType.LATENT);
    }

    /** Per denoiser call, the first down residual as the UNet received it (null: none). */
    private static List<Tensor> residuals(SdxlPipeline p, GenerationParams params) {
        List<Tensor> seen = new ArrayList<>();
        p.setObserver((call, in, out) -> seen.add(in.downResiduals() == null ? null : in.downResiduals().get(0)));
        try {
            p.generate(params);
        } finally {
            p.setObserver(null);
        }
        return seen;
    }

    private static float[] rowOf(Tensor t, int r) {
        return t.narrow(0, r, 1).contiguous().toFloatArray();
    }

    @Test
    void autoPipelinesGiveTheControlNetPipelinesSharingEveryWeight() {
        assertInstanceOf(StableDiffusionXLControlNetPipeline.class, pipe);
        SdxlPipeline plain = AutoPipelineForText2Image.fromPipe(pipe, false);
        SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(pipe, true);
        assertInstanceOf(StableDiffusionXLControlNetPipeline.class, plain);
        assertInstanceOf(StableDiffusionXLControlNetImg2ImgPipeline.class, i2i);
        ControlNetModel net = pipe.controlnet().nets().get(0);
        assertSame(net, plain.controlnet().nets().get(0));
        assertSame(net, i2i.controlnet().nets().get(0));
        Map<String, Parameter> a = net.namedParameters();
        Map<String, Parameter> b = i2i.controlnet().nets().get(0).namedParameters();
        a.forEach((k, p) -> assertSame(p.get(), b.get(k).get(), k));
        assertSame(pipe.components().unet(), i2i.components().unet());
        // from_pipe(pipe, controlnet=None): the plain pipeline over the same modules
        SdxlPipeline none = AutoPipelineForText2Image.fromPipe(pipe, true, List.of("mid"), null);
        assertInstanceOf(StableDiffusionXLPipeline.class, none);
        assertSame(pipe.components(), none.components());
    }

    @Test
    void perturbedRowGetsTheCondRowsResiduals() {
        List<Tensor> mids = new ArrayList<>();
        pipe.setObserver((call, in, out) -> mids.add(in.midResidual()));
        try {
            pipe.generate(params(ControlNetParams.of(control)).build());
        } finally {
            pipe.setObserver(null);
        }
        // the mid residual depends on the prompt (cross-attention), so uncond and cond differ
        Tensor r = mids.get(0);
        assertEquals(3, r.dim(0));
        assertArrayEquals(rowOf(r, 1), rowOf(r, 2));
        assertFalse(java.util.Arrays.equals(rowOf(r, 0), rowOf(r, 1)), "uncond and cond rows differ");
    }

    @Test
    void guidanceWindowSwitchesTheResidualsOffAtTheRightSteps() {
        // 4 steps, window [0.25, 0.75]: step 0 (0/4 < 0.25) and step 3 (4/4 > 0.75) are off
        ControlNetParams cn = ControlNetParams.of(control).withGuidance(new float[] {0.25f}, new float[] {0.75f});
        List<Tensor> seen = residuals(pipe, params(cn).build());
        assertEquals(4, seen.size());
        assertEquals(null, seen.get(0));
        assertTrue(seen.get(1) != null && seen.get(2) != null);
        assertEquals(null, seen.get(3));
    }

    @Test
    void guessModeGivesZeroUncondResidualsAndLogspaceScales() {
        Tensor plain = residuals(pipe, params(ControlNetParams.of(control)).build()).get(0);
        Tensor guess = residuals(pipe, params(ControlNetParams.of(control).withGuessMode(true)).build()).get(0);
        for (float v : rowOf(guess, 0)) {
            assertEquals(0f, v);
        }
        // the shallowest residual is scaled by logspace(-1, 0, 10)[0] = 0.1 relative to the plain call
        float[] g = rowOf(guess, 1);
        float[] p = rowOf(plain, 1);
        double maxDiff = 0;
        for (int i = 0; i < g.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(g[i] - 0.1f * p[i]));
        }
        assertTrue(maxDiff < 1e-6, "guess-mode residual 0 is not 0.1x the plain one: " + maxDiff);
        assertArrayEquals(rowOf(guess, 1), rowOf(guess, 2));
    }

    @Test
    void scaleZeroEqualsNoControlNetAndAScaleChangesTheImage() {
        SdxlPipeline without = AutoPipelineForText2Image.fromPipe(pipe, true, List.of("mid"), null);
        Tensor none = without.generate(params(null).build()).latents();
        Tensor zero = pipe.generate(params(ControlNetParams.of(control).withScale(0f)).build()).latents();
        Tensor some = pipe.generate(params(ControlNetParams.of(control).withScale(0.8f)).build()).latents();
        assertArrayEquals(none.toFloatArray(), zero.toFloatArray());
        assertFalse(java.util.Arrays.equals(none.toFloatArray(), some.toFloatArray()));
    }

    @Test
    void img2imgWithStrengthRunsTheTruncatedScheduleWithTheControlImage() {
        SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(pipe, true);
        SdxlPipeline plainI2i = AutoPipelineForImage2Image.fromPipe(
                AutoPipelineForText2Image.fromPipe(pipe, true, List.of("mid"), null), true);
        Tensor init = ImageTensors.toTensor(control);
        List<Float> cnSteps = new ArrayList<>();
        List<Float> plainSteps = new ArrayList<>();
        i2i.setObserver((call, in, out) -> cnSteps.add(in.timesteps()[0]));
        plainI2i.setObserver((call, in, out) -> plainSteps.add(in.timesteps()[0]));
        i2i.generate(params(ControlNetParams.of(control)).strength(0.5f).image(init).build());
        plainI2i.generate(params(null).strength(0.5f).image(init).build());
        assertEquals(2, cnSteps.size(), "strength 0.5 of 4 steps runs 2");
        assertEquals(plainSteps, cnSteps);
        // diffusers' ControlNet img2img default strength is 0.8: 3 of 4 steps
        cnSteps.clear();
        i2i.generate(params(ControlNetParams.of(control)).image(init).build());
        assertEquals(3, cnSteps.size());
    }

    @Test
    void badControlNetArgumentsAreNamedErrors() {
        assertMessage("2 control images for 1 ControlNet", params(ControlNetParams.of(control, control)));
        assertMessage("control_guidance_start 0.5 must be smaller than control_guidance_end 0.5",
                params(ControlNetParams.of(control).withGuidance(new float[] {0.5f}, new float[] {0.5f})));
        assertMessage("controlnet_conditioning_scale has 2 values for 1 ControlNet",
                params(ControlNetParams.of(control).withScale(0.5f, 0.7f)));
        BufferedImage small = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        assertMessage("control image 0 is 64x64 but the generation size is 128x128 and resizing is off",
                params(ControlNetParams.of(small).withResize(false)));
        assertMessage("needs a control image", params(null));
        SdxlPipeline without = AutoPipelineForText2Image.fromPipe(pipe, true, List.of("mid"), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> without.generate(params(ControlNetParams.of(control)).build()));
        assertTrue(e.getMessage().contains("has no ControlNet"), e.getMessage());
    }

    @Test
    void controlImageSetsTheDefaultSizeAndAnyOtherSizeIsResized() {
        List<int[]> shapes = new ArrayList<>();
        pipe.setObserver((call, in, out) -> shapes.add(in.sample().shape()));
        try {
            // no size given: the control image's (rounded down to multiples of 8), as diffusers
            pipe.generate(GenerationParams.builder("x").steps(1).seed(1)
                    .controlNet(ControlNetParams.of(new BufferedImage(263, 199, BufferedImage.TYPE_INT_RGB)))
                    .outputType(GenerationParams.OutputType.LATENT).build());
            assertArrayEquals(new int[] {3, 4, 24, 32}, shapes.get(0));
            // a size given: the 263x199 image is resized to it
            pipe.generate(params(ControlNetParams.of(new BufferedImage(263, 199, BufferedImage.TYPE_INT_RGB)))
                    .steps(1).build());
            assertArrayEquals(new int[] {3, 4, 16, 16}, shapes.get(1));
        } finally {
            pipe.setObserver(null);
        }
    }

    private static void assertMessage(String expected, GenerationParams.Builder b) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipe.generate(b.build()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
