package dev.pagoda.diffusion.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.SdComponents;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGPipeline;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SD 1.5 text-to-image and image-to-image with CFG + PAG against diffusers 0.31's
 * {@code StableDiffusionPAG[Img2Img]Pipeline} on the tiny SD 1.5-shaped model of
 * {@code src/test/resources/sd15} (made by its {@code make_fixtures.py}), within the golden tolerances.
 */
class SdConformanceTest {

    static final Path ROOT = Path.of("src/test/resources/sd15");

    static Stream<String> cases() {
        return new ConformanceRunner(ROOT).caseNames().stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void casePasses(String name) {
        CaseResult r = new ConformanceRunner(ROOT).run(name);
        assertTrue(r.passed(), r.line());
    }

    /** The comparison can fail: PAG on other layers than the case's gives a latent far outside tolerance. */
    @Test
    void otherPagLayersAreDetected() {
        try (SdComponents parts = SdComponents.load(ROOT.resolve("models/tiny-sd15"), false);
                SafetensorsFile ref = SafetensorsFile.open(ROOT.resolve("cases/sd15_t2i_cfg_pag/tensors.safetensors"))) {
            StableDiffusionPAGPipeline pipe = new StableDiffusionPAGPipeline(parts, true, List.of("up_blocks.1"));
            Tensor lat = pipe.generate(GenerationParams.builder("a photo of an astronaut riding a horse on mars")
                    .size(128, 96).steps(5).guidanceScale(7.5f).pagScale(3f).seed(3)
                    .outputType(GenerationParams.OutputType.LATENT).build()).latents();
            Tensor want = ref.tensor("output.latent");
            Difference d = Difference.of(lat, want);
            assertFalse(d.within(PipelineCases.LATENT_TOL), d.toString());
        }
    }
}
