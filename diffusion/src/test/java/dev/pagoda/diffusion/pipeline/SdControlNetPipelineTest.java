package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SD 1.5 with ControlNets and PAG against diffusers 0.31's {@code StableDiffusionControlNetPAGPipeline}
 * (tiny SD 1.5 and a tiny random ControlNet; fixtures and script in src/test/resources/sd15controlnet/):
 * one net, and two nets with per-net scales and guidance windows. Each also runs with the nets' scale at
 * 0, which must miss by far (the nets are not a no-op).
 */
class SdControlNetPipelineTest {

    static Path resource(String name) throws Exception {
        return Path.of(SdControlNetPipelineTest.class.getResource("/" + name).toURI());
    }

    /** golden/README.md's rel of a fixture's output.latent. */
    static double rel(String fixture, Tensor got) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(resource("sd15controlnet/" + fixture + ".safetensors"))) {
            return dev.pagoda.tensor.Difference.of(got, f.tensor("output.latent")).rel();
        }
    }

    static GenerationParams.Builder call(long seed) {
        return GenerationParams.builder("a photo of an astronaut riding a horse on mars").steps(3).guidanceScale(7.5f)
                .pagScale(3f).seed(seed).outputType(GenerationParams.OutputType.LATENT);
    }

    @Test
    void matchesDiffusersWithOneAndTwoNets() throws Exception {
        BufferedImage control = ImageSource.load(resource("sd15controlnet/control64.png").toString());
        ControlNetModel net = ControlNetModel.fromPretrained(resource("sd15controlnet/tiny-sd15-controlnet"), false);
        Path sd = resource("sd15/models/tiny-sd15");
        try (StableDiffusionPAGPipeline pipe = SdPipelines.text2Image(sd, PipelineOptions.pag(List.of("mid"))
                .controlnet(net))) {
            assertEquals(StableDiffusionControlNetPAGPipeline.class, pipe.getClass());
            ControlNetParams one = new ControlNetParams(List.of(control), new float[] {0.7f}, null, null, false, true);
            double r = rel("cfg_pag", pipe.generate(call(4).controlNet(one).build()).latents());
            assertTrue(r <= 2e-4, "cfg_pag: output.latent rel error " + r);
            ControlNetParams off = new ControlNetParams(List.of(control), new float[] {0f}, null, null, false, true);
            double without = rel("cfg_pag", pipe.generate(call(4).controlNet(off).build()).latents());
            assertTrue(without > 1e-2, "scale 0 as close as " + without);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(call(4).build()))
                    .getMessage().contains("needs a control image per net"));
        }
        // the first pipeline closed its net with its weights (PipelineOptions.controlnet hands them over)
        ControlNetModel again = ControlNetModel.fromPretrained(resource("sd15controlnet/tiny-sd15-controlnet"), false);
        try (StableDiffusionPAGPipeline two = SdPipelines.text2Image(sd, PipelineOptions.pag(List.of("mid"))
                .controlnet(again, again))) {
            ControlNetParams both = new ControlNetParams(List.of(control, control), new float[] {0.5f, 0.9f}, null,
                    new float[] {1f, 0.5f}, false, true);
            double r = rel("two_nets", two.generate(call(5).controlNet(both).build()).latents());
            assertTrue(r <= 2e-4, "two_nets: output.latent rel error " + r);
        }
    }
}
