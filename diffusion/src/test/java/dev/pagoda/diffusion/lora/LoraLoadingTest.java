package dev.pagoda.diffusion.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.StableDiffusionXLPipeline;
import dev.pagoda.diffusion.singlefile.CheckpointException;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.nn.layers.LoraTarget;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA files of both layouts on the tiny SDXL pipeline, checked against {@code W + w·(alpha/r)·B·A} in float64. */
class LoraLoadingTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");
    static final String Q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q";
    static final String K = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k";
    static final String CONV = "up_blocks.0.resnets.0.conv1";
    static final String TE1 = "text_model.encoder.layers.0.self_attn.q_proj";
    static final String TE2 = "text_model.encoder.layers.1.mlp.fc1";

    @TempDir
    Path tmp;

    private final SplittableRandom rng = new SplittableRandom(11);

    private Tensor random(DType dt, float amp, int... shape) {
        Tensor t = Tensor.zeros(dt, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.storage().setFloat(dt, i, (float) ((rng.nextDouble() * 2 - 1) * amp));
        }
        return t;
    }

    private static int[] weightShape(Module m) {
        return m.namedParameters().get("weight").shape();
    }

    /** A kohya file: diffusers-named and original-named UNet targets, a 3×3 conv, both text encoders, alphas. */
    private Map<String, Tensor> kohya(SdxlPipeline p) {
        Map<String, Tensor> f = new LinkedHashMap<>();
        Object[][] targets = {
            {"lora_unet_" + Q.replace('.', '_'), p.components().unet().namedModules().get(Q), 4, 2f},
            {"lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k", p.components().unet().namedModules().get(K), 2, null},
            {"lora_unet_output_blocks_0_0_in_layers_2", p.components().unet().namedModules().get(CONV), 3, 1.5f},
            {"lora_te1_" + TE1.replace('.', '_'), p.components().textEncoder().namedModules().get(TE1), 4, 4f},
            {"lora_te2_" + TE2.replace('.', '_'), p.components().textEncoder2().namedModules().get(TE2), 8, 1f},
        };
        for (Object[] t : targets) {
            int[] w = weightShape((Module) t[1]);
            int r = (int) t[2];
            int[] down = w.clone();
            down[0] = r;
            int[] up = w.length == 4 ? new int[] {w[0], r, 1, 1} : new int[] {w[0], r};
            f.put(t[0] + ".lora_down.weight", random(DType.F16, 0.3f, down));
            f.put(t[0] + ".lora_up.weight", random(DType.F16, 0.3f, up));
            if (t[3] != null) {
                f.put(t[0] + ".alpha", Tensor.of(new float[] {(float) t[3]}));
            }
        }
        return f;
    }

    private Path write(String name, Map<String, Tensor> tensors) {
        Path p = tmp.resolve(name);
        SafetensorsWriter.write(p, tensors);
        return p;
    }

    private static double[] d(Tensor t) {
        float[] f = t.contiguous().toFloatArray();
        return java.util.stream.IntStream.range(0, f.length).mapToDouble(i -> f[i]).toArray();
    }

    /** The module's output on {@code x} must equal {@code x·(W + k·B·A)ᵀ + b} in float64 (linear targets). */
    private static void assertLinearEquation(Linear m, Tensor down, Tensor up, double k, Tensor x) {
        double[] w = d(m.weight().get());
        double[] dn = d(down);
        double[] u = d(up);
        int in = m.in();
        int out = m.out();
        int r = down.dim(0);
        Tensor b = m.namedParameters().containsKey("bias") ? m.namedParameters().get("bias").get() : null;
        double[] bias = b == null ? new double[out] : d(b);
        double[] xd = d(x);
        int rows = xd.length / in;
        float[] got = m.forward(x).toFloatArray();
        double max = 0;
        double[] want = new double[rows * out];
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int c = 0; c < in; c++) {
                    double lr = 0;
                    for (int j = 0; j < r; j++) {
                        lr += u[o * r + j] * dn[j * in + c];
                    }
                    s += xd[t * in + c] * (w[o * in + c] + k * lr);
                }
                want[t * out + o] = s;
                max = Math.max(max, Math.abs(s));
            }
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 1e-5 * max, "at " + i + ": " + got[i] + " vs " + want[i]);
        }
    }

    @Test
    void kohyaPairsFollowTheEquationWithAlphaOverRankAndAdapterWeight() {
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            Map<String, Tensor> f = kohya(p);
            p.loadLoraWeights(write("k.safetensors", f), "k");
            p.setAdapters(List.of("k"), List.of(0.8f));
            Module unet = p.components().unet();
            String q = "lora_unet_" + Q.replace('.', '_');
            assertLinearEquation((Linear) unet.namedModules().get(Q), f.get(q + ".lora_down.weight"),
                    f.get(q + ".lora_up.weight"), 0.8 * 2 / 4, random(DType.F32, 1f, 2, 5, 16));
            // original-named target without alpha: alpha = rank, scale = weight
            String k = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k";
            assertLinearEquation((Linear) unet.namedModules().get(K), f.get(k + ".lora_down.weight"),
                    f.get(k + ".lora_up.weight"), 0.8, random(DType.F32, 1f, 2, 5, 16));
            String te2 = "lora_te2_" + TE2.replace('.', '_');
            assertLinearEquation((Linear) p.components().textEncoder2().namedModules().get(TE2),
                    f.get(te2 + ".lora_down.weight"), f.get(te2 + ".lora_up.weight"), 0.8 * 1 / 8,
                    random(DType.F32, 1f, 1, 3, 32));
            assertEquals(List.of("k"), List.copyOf(((Conv2d) unet.namedModules().get(CONV)).lora().names()));
            assertEquals(List.of("k"), List.copyOf(((LoraTarget) p.components().textEncoder().namedModules().get(TE1))
                    .lora().names()));
        }
    }

    @Test
    void imagesWithAdaptersOffFusedAndUnfused() {
        Supplier<GenerationParams> params = () -> GenerationParams.builder("a red cube").steps(2).size(64, 64).seed(3)
                .build();
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            float[] plain = p.generate(params.get()).image().toFloatArray();
            p.loadLoraWeights(write("k.safetensors", kohya(p)), "k");
            p.setAdapters(List.of("k"), List.of(0f));
            assertArrayEquals(plain, p.generate(params.get()).image().toFloatArray(), "weight 0 is the base model");
            p.setAdapters(List.of("k"), List.of(1f));
            float[] side = p.generate(params.get()).image().toFloatArray();
            assertFalse(Arrays.equals(plain, side), "the adapter changed nothing");
            p.fuseLora();
            float[] fused = p.generate(params.get()).image().toFloatArray();
            double worst = 0;
            for (int i = 0; i < side.length; i++) {
                worst = Math.max(worst, Math.abs(side[i] - fused[i]));
            }
            // fused text-encoder weights are float16 again: one rounding per weight
            assertTrue(worst < 2e-2, "fused differs from the side path by " + worst);
            p.unfuseLora();
            assertArrayEquals(side, p.generate(params.get()).image().toFloatArray(), "unfuse restores exactly");
        }
    }

    @Test
    void peftPairsAndSeveralAdapters() {
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            Linear k = (Linear) p.components().unet().namedModules().get(K);
            Tensor a = random(DType.F32, 0.3f, 3, 16);
            Tensor b = random(DType.F32, 0.3f, 16, 3);
            Map<String, Tensor> peft = new LinkedHashMap<>();
            peft.put("unet." + K + ".lora_A.weight", a);
            peft.put("unet." + K + ".lora_B.weight", b);
            peft.put("text_encoder_2." + TE2 + ".lora_A.weight", random(DType.F32, 0.3f, 2, 32));
            peft.put("text_encoder_2." + TE2 + ".lora_B.weight", random(DType.F32, 0.3f, 64, 2));
            p.loadLoraWeights(write("peft.safetensors", peft), "peft");
            Map<String, Tensor> f = kohya(p);
            p.loadLoraWeights(write("k.safetensors", f), "k");
            // the original-named kohya target and the PEFT one are the same module
            assertEquals(List.of("peft", "k"), List.copyOf(k.lora().names()));
            p.setAdapters(List.of("peft"), List.of(0.5f));
            assertLinearEquation(k, a, b, 0.5, random(DType.F32, 1f, 4, 16));
            assertThrows(IllegalArgumentException.class, () -> p.setAdapters(List.of("nope"), List.of(1f)));
            assertThrows(IllegalArgumentException.class, () -> p.loadLoraWeights(tmp.resolve("peft.safetensors"), "peft"));
        }
    }

    @Test
    void missingTargetsAndRankMismatchAreListedAndNothingIsAttached() {
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            Map<String, Tensor> f = kohya(p);
            f.put("lora_unet_down_blocks_7_attentions_0_proj_in.lora_down.weight", Tensor.zeros(2, 16));
            f.put("lora_unet_down_blocks_7_attentions_0_proj_in.lora_up.weight", Tensor.zeros(16, 2));
            f.put("unet.mid_block.nothing_here.lora_A.weight", Tensor.zeros(2, 16));
            f.put("unet.mid_block.nothing_here.lora_B.weight", Tensor.zeros(16, 2));
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> p.loadLoraWeights(write("bad.safetensors", f), "bad"));
            assertTrue(e.getMessage().contains("unet:down_blocks_7_attentions_0_proj_in")
                    && e.getMessage().contains("unet:mid_block.nothing_here")
                    && e.getMessage().contains("target modules that do not exist"), e.getMessage());
            assertTrue(((Linear) p.components().unet().namedModules().get(Q)).lora().isEmpty(), "half a file was attached");

            Map<String, Tensor> r = kohya(p);
            String q = "lora_unet_" + Q.replace('.', '_');
            r.put(q + ".lora_up.weight", Tensor.zeros(16, 3));
            e = assertThrows(CheckpointException.class, () -> p.loadLoraWeights(write("rank.safetensors", r), "rank"));
            assertTrue(e.getMessage().contains("rank mismatch") && e.getMessage().contains(q + ".lora_down.weight (down rank 4, up rank 3)"),
                    e.getMessage());

            Map<String, Tensor> other = Map.of("lora_unet_x.hada_w1_a", Tensor.zeros(2, 2));
            e = assertThrows(CheckpointException.class, () -> p.loadLoraWeights(write("lycoris.safetensors", other), "ly"));
            assertTrue(e.getMessage().contains("unsupported keys") && e.getMessage().contains("hada_w1_a"), e.getMessage());
            assertTrue(p.components().lora().names().isEmpty());
        }
    }
}
