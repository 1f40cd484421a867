package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SD 1.x call options against diffusers 0.31's {@code StableDiffusionPAGPipeline} on the tiny SD 1.5
 * model (fixtures: src/test/resources/callopts/, cases sd_*): prompt lists with one generator per
 * image, SD's {@code clip_skip} (final layer norm of an earlier hidden state), DDIM's {@code eta},
 * custom sigmas and given latents. Each case also runs without its option, which must miss by far.
 */
class SdCallOptionsTest {

    static List<String> prompts;

    static Path sd15() throws Exception {
        return Path.of(SdCallOptionsTest.class.getResource("/sd15/models/tiny-sd15").toURI());
    }

    static GenerationParams.Builder call(List<Integer> ids, int h, int w) {
        return GenerationParams.builder(ids.stream().map(prompts::get).toList()).size(h, w).steps(3)
                .guidanceScale(7.5f).pagScale(3f).outputType(GenerationParams.OutputType.LATENT);
    }

    static List<NoiseSource> generators() {
        return List.of(NoiseSource.seeded(7), NoiseSource.seeded(8), NoiseSource.seeded(9), NoiseSource.seeded(10));
    }

    @Test
    void promptListsClipSkipEtaSigmasAndLatents() throws Exception {
        prompts = CallOptionsTest.goldenPrompts();
        try (StableDiffusionPAGPipeline pipe = SdPipelines.text2Image(sd15(), PipelineOptions.pag(List.of("mid")))) {
            pipe.setScheduler("DDIMScheduler");
            GenerationParams.Builder b = call(List.of(0, 2), 64, 96).clipSkip(1).eta(0.5f).numImagesPerPrompt(2)
                    .negativePrompts(List.of(prompts.get(1), prompts.get(3)))
                    .generators(generators());
            double r = CallOptionsTest.rel("sd_batch_clip_skip_eta", pipe.generate(b.build()).latents());
            assertTrue(r <= 2e-4, "sd_batch_clip_skip_eta: rel error " + r);
            double without = CallOptionsTest.rel("sd_batch_clip_skip_eta", pipe.generate(b.clipSkip(null)
                    .generators(generators()).build()).latents());
            assertTrue(without > 1e-2, "without clip_skip as close as " + without);

            pipe.setScheduler("EulerDiscreteScheduler");
            Tensor latents;
            try (SafetensorsFile f = SafetensorsFile.open(CallOptionsTest.resource("sd_sigmas_latents.safetensors"))) {
                Tensor t = f.tensor("input.latents");
                latents = Tensor.of(t.toFloatArray(), t.shape());
            }
            GenerationParams.Builder e = call(List.of(0), 64, 64).sigmas(9f, 3f, 0.8f, 0f).latents(latents);
            r = CallOptionsTest.rel("sd_sigmas_latents", pipe.generate(e.build()).latents());
            assertTrue(r <= 2e-4, "sd_sigmas_latents: rel error " + r);
            without = CallOptionsTest.rel("sd_sigmas_latents", pipe.generate(e.sigmas((float[]) null).steps(3)
                    .build()).latents());
            assertTrue(without > 1e-2, "without the custom sigmas as close as " + without);
        }
        try (StableDiffusionPAGImg2ImgPipeline i2i = SdPipelines.image2Image(sd15(), PipelineOptions.pag(List.of("mid")))) {
            i2i.setScheduler("DDIMScheduler");
            Tensor image = dev.pagoda.diffusion.image.ImageTensors.toTensor(dev.pagoda.diffusion.image.ImageSource.load(
                    CallOptionsTest.resource("sd_img2img_input.png").toString()));
            GenerationParams.Builder b = call(List.of(0), 64, 64).steps(4).strength(0.6f).image(image)
                    .numImagesPerPrompt(2).generators(List.of(NoiseSource.seeded(25), NoiseSource.seeded(26)));
            double r = CallOptionsTest.rel("sd_img2img_generators", i2i.generate(b.build()).latents());
            assertTrue(r <= 2e-4, "sd_img2img_generators: rel error " + r);
            double single = CallOptionsTest.rel("sd_img2img_generators", i2i.generate(b.noise(NoiseSource.seeded(25))
                    .build()).latents());
            assertTrue(single > 1e-2, "one generator instead of the list as close as " + single);
        }
    }
}
