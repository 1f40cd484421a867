package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.pagoda.tensor.golden.GoldenFixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link SdxlComponents#setUnloadTextEncoderPages}: dropping the text encoders' pages after encoding changes no
 * result, on the first call or the next (which reads the weights again from the file).
 */
class TextEncoderPagesTest {

    @Test
    void unloadingTheTextEncodersPagesChangesNothing() {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(GoldenFixtures.vendored().model("tiny-sdxl"),
                PipelineOptions.pag(List.of("mid")))) {
            GenerationParams p = GenerationParams.builder("a red cube").negativePrompt("blurry").size(64, 64).steps(2)
                    .seed(4).outputType(GenerationParams.OutputType.LATENT).build();
            float[] kept = pipe.generate(p).latents().toFloatArray();
            pipe.components().setUnloadTextEncoderPages(true);
            try {
                assertArrayEquals(kept, pipe.generate(p.toBuilder().seed(4).build()).latents().toFloatArray());
                assertArrayEquals(kept, pipe.generate(p.toBuilder().seed(4).build()).latents().toFloatArray());
            } finally {
                pipe.components().setUnloadTextEncoderPages(false);
            }
        }
    }
}
