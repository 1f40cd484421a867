package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.conformance.OpenClDevice;
import dev.pagoda.opencl.ClCounters;
import dev.pagoda.opencl.OpenClBackend;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An SDXL step (tiny model, CFG + PAG) on OpenCL: the weights go up once when the pipeline is
 * built, the step makes no host fallback and uploads no weight (the only per-call uploads are the
 * pipeline inputs made resident by the pipeline itself), and the result matches the CPU backend.
 */
class OpenClStepCountersTest {

    private static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");

    private OpenClBackend opencl;

    @BeforeEach
    void device() {
        opencl = (OpenClBackend) OpenClDevice.get();
    }

    private static GenerationParams step() {
        return GenerationParams.builder("a pagoda at dusk").negativePrompt("blurry").steps(1).guidanceScale(5f)
                .pagScale(3f).seed(3).outputType(GenerationParams.OutputType.LATENT).build();
    }

    @Test
    void aStepMakesNoFallbackAndUploadsNoWeightTwice() {
        ClCounters c = opencl.counters();
        long uploadsBefore = c.residentUploads();
        PipelineOptions opts = PipelineOptions.pag(List.of("mid", "up")).backend(opencl);
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, opts)) {
            int params = pipe.components().unet().namedParameters().size()
                    + pipe.components().vae().namedParameters().size();
            assertEquals(params, c.residentUploads() - uploadsBefore, "every UNet/VAE weight uploaded at load");
            pipe.components().to(opencl);
            pipe.components().unet().to(opencl);
            assertEquals(params, c.residentUploads() - uploadsBefore, "moving again uploads nothing");

            c.resetOperations();
            long beforeStep = c.residentUploads();
            GenerationResult onDevice = pipe.generate(step());
            assertEquals(Map.of(), c.fallbacks(), "host fallbacks during the step");
            assertEquals(Map.of(), c.implicitUploads(), "host operands uploaded per operation (weights not resident)");
            assertEquals(0, c.repeatedUploads(), "a host tensor uploaded twice");
            // latents + embeddings, pooled embeddings and time ids: the step's inputs, nothing else
            assertEquals(4, c.residentUploads() - beforeStep, c.toString());
            assertTrue(opencl.peakDeviceBytes() > 0);

            try (SdxlPipeline cpu = AutoPipelineForText2Image.fromPretrained(TINY,
                    PipelineOptions.pag(List.of("mid", "up")))) {
                Tensor expected = cpu.generate(step()).latents();
                double rel = Difference.of(onDevice.latents().to(DType.F32), expected).rel();
                assertTrue(rel < 1e-5, "latents differ from the CPU backend's by " + rel);
            }
        }
    }

    @Test
    void tooLittleDeviceMemoryForTheWeightsIsANamedErrorBeforeUploading() {
        Backend tiny = new Backend() {
            @Override public String name() { return "tiny-device"; }
            @Override public long deviceMemoryBytes() { return 1024; }
            @Override public Tensor resident(Tensor x) { throw new AssertionError("uploaded before the check"); }
            // The remaining operations are never reached: the check comes first.
            @Override public Tensor matmul(Tensor a, Tensor b) { throw new AssertionError(); }
            @Override public Tensor linear(Tensor x, Tensor w, Tensor b) { throw new AssertionError(); }
            @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int s, int p, int g) { throw new AssertionError(); }
            @Override public Tensor groupNorm(Tensor x, int g, Tensor a, Tensor b, float e, boolean s) { throw new AssertionError(); }
            @Override public Tensor layerNorm(Tensor x, Tensor g, Tensor b, float e) { throw new AssertionError(); }
            @Override public Tensor rmsNorm(Tensor x, Tensor g, float e) { throw new AssertionError(); }
            @Override public Tensor softmax(Tensor x) { throw new AssertionError(); }
            @Override public Tensor attention(Tensor q, Tensor k, Tensor v, int h, float s, Tensor m, boolean[] i) { throw new AssertionError(); }
            @Override public Tensor gelu(Tensor x, boolean t) { throw new AssertionError(); }
            @Override public Tensor quickGelu(Tensor x) { throw new AssertionError(); }
            @Override public Tensor silu(Tensor x) { throw new AssertionError(); }
            @Override public Tensor geglu(Tensor x) { throw new AssertionError(); }
            @Override public Tensor exp(Tensor x) { throw new AssertionError(); }
            @Override public Tensor clamp(Tensor x, float a, float b) { throw new AssertionError(); }
            @Override public Tensor add(Tensor a, Tensor b) { throw new AssertionError(); }
            @Override public Tensor sub(Tensor a, Tensor b) { throw new AssertionError(); }
            @Override public Tensor mul(Tensor a, Tensor b) { throw new AssertionError(); }
            @Override public Tensor div(Tensor a, Tensor b) { throw new AssertionError(); }
            @Override public Tensor affine(Tensor x, float m, float a) { throw new AssertionError(); }
            @Override public Tensor axpby(float a, Tensor x, float b, Tensor y) { throw new AssertionError(); }
            @Override public Tensor copy(Tensor x, DType d) { throw new AssertionError(); }
            @Override public Tensor concat(int d, Tensor... xs) { throw new AssertionError(); }
            @Override public Tensor upsampleNearest2x(Tensor x) { throw new AssertionError(); }
            @Override public Tensor embedding(Tensor t, Tensor i) { throw new AssertionError(); }
            @Override public Tensor timestepEmbedding(Tensor t, int d, boolean f, float s, float c, int m) { throw new AssertionError(); }
        };
        var e = assertThrows(dev.pagoda.tensor.DeviceMemoryException.class,
                () -> AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults().backend(tiny)));
        assertTrue(e.getMessage().contains("tiny-sdxl") && e.getMessage().contains("MiB"), e.getMessage());
    }
}
