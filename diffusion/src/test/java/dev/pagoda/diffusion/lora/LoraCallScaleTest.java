package dev.pagoda.diffusion.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.nn.Module;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * diffusers' {@code cross_attention_kwargs={"scale": s}}: the call's scale multiplies every unfused
 * adapter's update (PEFT's {@code scale_lora_layers}), in the UNet and the text encoders. Checked by the
 * defining equation: scale s with adapter weight w is the same update as weight s·w (bit for bit where the
 * products are exact), scale 0 is the model without the adapter; and per call, also when calls with
 * different scales run at once on the same modules.
 */
class LoraCallScaleTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");

    @TempDir
    Path tmp;

    /** A PEFT-layout file on a UNet attention projection and a text-encoder projection. */
    private Path peft(SdxlPipeline p) {
        SplittableRandom rng = new SplittableRandom(5);
        Map<String, Tensor> f = new LinkedHashMap<>();
        Map<String, Module> targets = Map.of(
                "unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_q",
                p.components().unet().namedModules().get("mid_block.attentions.0.transformer_blocks.0.attn1.to_q"),
                "text_encoder.text_model.encoder.layers.0.self_attn.q_proj",
                p.components().textEncoder().namedModules().get("text_model.encoder.layers.0.self_attn.q_proj"));
        for (Map.Entry<String, Module> e : targets.entrySet()) {
            int[] w = e.getValue().namedParameters().get("weight").shape();
            f.put(e.getKey() + ".lora_A.weight", random(rng, 4, w[1]));
            f.put(e.getKey() + ".lora_B.weight", random(rng, w[0], 4));
        }
        Path file = tmp.resolve("peft.safetensors");
        SafetensorsWriter.write(file, f);
        return file;
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(DType.F16, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.storage().setFloat(DType.F16, i, (float) ((rng.nextDouble() * 2 - 1) * 0.5));
        }
        return t;
    }

    private static float[] run(SdxlPipeline p, float scale) {
        return p.generate(GenerationParams.builder("a red cube").size(64, 64).steps(2).seed(3).loraScale(scale)
                .outputType(GenerationParams.OutputType.LATENT).build()).latents().toFloatArray();
    }

    @Test
    void theCallsScaleMultipliesTheAdaptersUpdate() throws Exception {
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            float[] without = run(p, 1f);
            p.loadLoraWeights(peft(p), "a");
            float[] full = run(p, 1f);
            assertFalse(java.util.Arrays.equals(without, full), "the adapter changed nothing");
            assertArrayEquals(without, run(p, 0f), "scale 0 must be the model without the adapter");
            float[] half = run(p, 0.5f);
            p.setAdapters(List.of("a"), List.of(0.5f));
            assertArrayEquals(half, run(p, 1f), "scale 0.5 with weight 1 must equal weight 0.5 with scale 1");
            p.setAdapters(List.of("a"), List.of(1f));

            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 3; round++) {
                    Future<float[]> a = pool.submit(() -> run(p, 0f));
                    Future<float[]> b = pool.submit(() -> run(p, 1f));
                    assertArrayEquals(without, a.get(), "concurrent call with scale 0");
                    assertArrayEquals(full, b.get(), "concurrent call with scale 1");
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
