package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SD 1.5 ControlNet inpainting with PAG against diffusers 0.31's {@code StableDiffusionControlNetPAGInpaintPipeline}
 * (tiny SD 1.5, the tiny random ControlNet of sd15controlnet/, a tiny 9-channel inpainting UNet; fixtures and script
 * in src/test/resources/sd15cninpaint/). Each case also runs once without the feature it checks (the strength, PAG, the
 * nets, the guidance windows, the mask), which must miss by far, so no case passes by ignoring it.
 */
class SdControlNetInpaintPipelineTest {

    private static BufferedImage control;
    private static Tensor init;
    private static Tensor mask;

    @BeforeAll
    static void images() throws Exception {
        control = ImageSource.load(SdControlNetPipelineTest.resource("sd15controlnet/control64.png").toString());
        init = ImageTensors.toTensor(ImageSource.load(resource("init.png").toString()));
        mask = ImageTensors.toMask(ImageSource.load(resource("mask.png").toString()));
    }

    static Path resource(String name) throws Exception {
        return SdControlNetPipelineTest.resource("sd15cninpaint/" + name);
    }

    /** golden/README.md's rel of a fixture's {@code output.latent}. */
    static double rel(String fixture, Tensor got) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(resource(fixture + ".safetensors"))) {
            return Difference.of(got, f.tensor("output.latent")).rel();
        }
    }

    static ControlNetModel net() throws Exception {
        return ControlNetModel.fromPretrained(SdControlNetPipelineTest.resource("sd15controlnet/tiny-sd15-controlnet"),
                false);
    }

    static Path sd() throws Exception {
        return SdControlNetPipelineTest.resource("sd15/models/tiny-sd15");
    }

    /**
     * The fixtures' call: CFG 7.5 + PAG 3, 64x96, 4 steps, the init image and mask. A fresh builder (a new
     * generator from the seed) for every run: a built call's generator carries on where the last run left it.
     */
    static GenerationParams.Builder call(long seed) {
        return GenerationParams.builder("a photo of an astronaut riding a horse on mars").steps(4).guidanceScale(7.5f)
                .pagScale(3f).seed(seed).size(64, 96).image(init).mask(mask)
                .outputType(GenerationParams.OutputType.LATENT);
    }

    static ControlNetParams one(float scale) {
        return new ControlNetParams(List.of(control), new float[] {scale}, null, null, false, true);
    }

    @Test
    void oneNetAtStrengthBelowOneAndAtOneMatchesDiffusers() throws Exception {
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net()))) {
            double r = rel("cfg_pag_strength06", pipe.generate(call(6).controlNet(one(0.7f)).strength(0.6f).build())
                    .latents());
            assertTrue(r <= 2e-4, "cfg_pag_strength06: output.latent rel error " + r);
            // without the strength (diffusers' default 1.0: from pure noise)
            double without = rel("cfg_pag_strength06", pipe.generate(call(6).controlNet(one(0.7f)).build()).latents());
            assertTrue(without > 1e-2, "strength 1.0 as close as " + without);
            // the decoded image: output.np
            GenerationResult img = pipe.generate(call(6).controlNet(one(0.7f)).strength(0.6f)
                    .outputType(GenerationParams.OutputType.IMAGE).build());
            try (SafetensorsFile f = SafetensorsFile.open(resource("cfg_pag_strength06.safetensors"))) {
                double abs = Difference.of(ImageTensors.toNumpyLayout(img.image()), f.tensor("output.np")).maxAbs();
                assertTrue(abs <= 1e-4, "cfg_pag_strength06: output.np max abs error " + abs);
            }

            double r1 = rel("cfg_pag_strength1", pipe.generate(call(7).controlNet(one(0.8f)).strength(1f).build())
                    .latents());
            assertTrue(r1 <= 2e-4, "cfg_pag_strength1: output.latent rel error " + r1);
            // without the net (scale 0: its residuals are zero)
            double noNet = rel("cfg_pag_strength1", pipe.generate(call(7).controlNet(one(0f)).strength(1f).build())
                    .latents());
            assertTrue(noNet > 1e-2, "scale 0 as close as " + noNet);
        }
    }

    @Test
    void withoutAScaleTheNetsRunAtDiffusersDefaultOfThisPipeline() throws Exception {
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net()))) {
            // diffusers' StableDiffusionControlNetPAGInpaintPipeline: controlnet_conditioning_scale=0.5
            double r = rel("default_scale", pipe.generate(call(10).controlNet(ControlNetParams.of(control))
                    .strength(0.6f).build()).latents());
            assertTrue(r <= 2e-4, "default_scale: output.latent rel error " + r);
            // the other ControlNet pipelines' 1.0 misses
            double without = rel("default_scale", pipe.generate(call(10).controlNet(one(1f)).strength(0.6f).build())
                    .latents());
            assertTrue(without > 1e-2, "scale 1.0 as close as " + without);
        }
    }

    @Test
    void pagWithoutCfgMatchesDiffusers() throws Exception {
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid", "up_blocks.1")).controlnet(net()))) {
            // guidance_scale 1: batch [cond, perturbed], the 4-channel blend with the mask's single rows
            double r = rel("pag_only", pipe.generate(call(11).guidanceScale(1f).controlNet(one(0.7f)).strength(0.6f)
                    .build()).latents());
            assertTrue(r <= 2e-4, "pag_only: output.latent rel error " + r);
            // without PAG (pag_scale 0: the cond row alone)
            double without = rel("pag_only", pipe.generate(call(11).guidanceScale(1f).pagScale(0f)
                    .controlNet(one(0.7f)).strength(0.6f).build()).latents());
            assertTrue(without > 1e-2, "pag_scale 0 as close as " + without);
        }
    }

    @Test
    void twoNetsWithScalesAndGuidanceWindowsMatchDiffusers() throws Exception {
        ControlNetModel net = net();
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net, net))) {
            ControlNetParams both = new ControlNetParams(List.of(control, control), new float[] {0.5f, 0.9f},
                    new float[] {0f, 0.25f}, new float[] {1f, 0.75f}, false, true);
            double r = rel("two_nets", pipe.generate(call(8).controlNet(both).strength(0.75f).build()).latents());
            assertTrue(r <= 2e-4, "two_nets: output.latent rel error " + r);
            // without the guidance windows (both nets on at every step)
            double without = rel("two_nets", pipe.generate(call(8).controlNet(both.withGuidance(null, null))
                    .strength(0.75f).build()).latents());
            assertTrue(without > 1e-2, "no guidance windows as close as " + without);
        }
    }

    @Test
    void nineChannelInpaintingUnetMatchesDiffusers() throws Exception {
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net()).unet(resource("tiny-sd15-inpaint-unet")))) {
            assertEquals(9, pipe.components().unet().config().inChannels());
            double r = rel("nine_channel", pipe.generate(call(9).controlNet(one(0.6f)).strength(1f).build()).latents());
            assertTrue(r <= 2e-4, "nine_channel: output.latent rel error " + r);
            // without the mask (nothing to repaint: another mask channel and masked image)
            Tensor none = Tensor.zeros(mask.shape());
            double without = rel("nine_channel", pipe.generate(call(9).controlNet(one(0.6f)).strength(1f).mask(none)
                    .build()).latents());
            assertTrue(without > 1e-2, "an all-keep mask as close as " + without);
        }
    }

    @Test
    void refusesWhatDiffusersDoesNotHave() throws Exception {
        try (StableDiffusionControlNetPAGInpaintPipeline pipe = SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net()))) {
            GenerationParams ok = call(6).controlNet(one(0.7f)).steps(1).build();
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(ok.toBuilder()
                    .controlNet(one(0.7f).withGuessMode(true)).build())).getMessage().contains("guess_mode"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(ok.toBuilder()
                    .guidanceRescale(0.7f).build())).getMessage().contains("guidance_rescale"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(ok.toBuilder()
                    .mask(Tensor.zeros(1, 1, 32, 96)).build())).getMessage().contains("mask size 32x96"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(ok.toBuilder()
                    .mask(null).build())).getMessage().contains("mask is required"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(ok.toBuilder()
                    .maskedImageLatents(Tensor.zeros(1, 4, 8, 12)).build())).getMessage()
                    .contains("maskedImageLatents"));
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SdPipelines.inpaint(sd(),
                PipelineOptions.pag(List.of("mid")))).getMessage().contains("with ControlNets"));
    }

    @Test
    void autoPipelineAndFromPipeGiveTheSameLatents() throws Exception {
        try (DiffusionPipeline auto = AutoPipelineForInpainting.load(sd(),
                PipelineOptions.pag(List.of("mid")).controlnet(net()))) {
            assertEquals(StableDiffusionControlNetPAGInpaintPipeline.class, auto.getClass());
            double r = rel("cfg_pag_strength1", auto.generate(call(7).controlNet(one(0.8f)).strength(1f).build()).latents());
            assertTrue(r <= 2e-4, "AutoPipelineForInpainting.load: rel error " + r);
        }
        try (StableDiffusionPAGPipeline t2i = SdPipelines.text2Image(sd(), PipelineOptions.pag(List.of("mid"))
                .controlnet(net()))) {
            StableDiffusionControlNetPAGInpaintPipeline sibling = SdPipelines.inpaint(t2i, true, List.of("mid"));
            double r = rel("cfg_pag_strength1", sibling.generate(call(7).controlNet(one(0.8f)).strength(1f).build())
                    .latents());
            assertTrue(r <= 2e-4, "SdPipelines.inpaint(pipe, ...): rel error " + r);
            sibling.close();
        }
    }
}
