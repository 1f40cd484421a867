package dev.pagoda.diffusion.conformance;

import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;
import static dev.pagoda.tensor.golden.GoldenFixtures.strings;

import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.GenerationResult;
import dev.pagoda.diffusion.pipeline.PixArtComponents;
import dev.pagoda.diffusion.pipeline.PixArtSigmaPAGPipeline;
import dev.pagoda.diffusion.pipeline.PixArtSigmaPipeline;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.pixart.PixArtTransformer2DModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code pixart_components}: the T5 items ({@link T5Cases#encoderItems}) and the PixArt transformer's
 * forward passes, plain ([neg, pos]) and with PAG selections in the CFG and PAG-only layouts, each
 * batch built by {@link GuidedBatch} exactly as the pipeline builds it.
 */
final class PixArtCases {

    private PixArtCases() {
    }

    static CaseResult components(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.golden().path((String) map(fx.golden().index().get("models")).get("pixart"));
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.golden().tensors(name);
                TensorStore w = WeightFiles.open(model.resolve("transformer"), "diffusion_pytorch_model", false)) {
            T5Cases.encoderItems(fx, chk, c, ref);
            PixArtTransformer2DModel tr = PixArtTransformer2DModel.fromConfig(model.resolve("transformer/config.json"));
            WeightLoader.load(tr, w, "");
            tr.to(fx.backend());
            Backend device = fx.backend();
            float timestep = ((Number) c.get("timestep")).floatValue();
            for (Object o : list(c, "runs")) {
                Map<String, Object> run = map(o);
                List<String> rows = strings(run.get("batch"));
                boolean cfg = rows.contains("neg");
                List<Attention> modules = List.of();
                if (run.get("selection") != null) {
                    List<String> sel = strings(run.get("selection"));
                    chk.exact(run.get("name") + ".pag_modules", PagLayers.select(tr, sel), strings(run.get("pag_modules")));
                    modules = PagLayers.modules(tr, sel, PagLayers.Mode.DIFFUSERS);
                }
                GuidedBatch batch = GuidedBatch.of(new Guidance(cfg ? 4.5f : 1f, modules.isEmpty() ? 0f : 3f, 0f, 0f,
                        !modules.isEmpty()), 1, modules);
                chk.exact(run.get("name") + ".batch", batch.terms().stream()
                        .map(t -> t == GuidedBatch.Term.UNCOND ? "neg" : "pos").toList(), rows);
                Tensor sample = batch.repeat(ref.tensor("in.sample"));
                float[] ts = new float[sample.dim(0)];
                java.util.Arrays.fill(ts, timestep);
                Tensor out = tr.forward(new PixArtTransformer2DModel.Input(device.resident(sample), ts,
                        device.resident(batch.conditioning(ref.tensor("in.encoder_hidden_states.neg"),
                                ref.tensor("in.encoder_hidden_states.pos"))),
                        batch.conditioning(ref.tensor("in.encoder_attention_mask.neg"),
                                ref.tensor("in.encoder_attention_mask.pos")),
                        null, null, batch.pagPlan()));
                chk.rel((String) run.get("tensor"), out, ref.tensor((String) run.get("tensor")), ModelCases.MODULE_TOL);
            }
        }
        return chk.result();
    }

    /**
     * {@code pixart_sigma_*}: the PixArt-Σ PAG pipeline with the recorded noise (regenerated from the
     * seed as a check), every stored intermediate, the output latents and image, and the
     * {@code from_pipe} equivalence.
     */
    static CaseResult pipeline(Fixtures fx, String name, Map<String, Object> c) {
        Map<String, Object> params = map(c.get("params"));
        Path model = fx.golden().path((String) c.get("model"));
        List<String> layers = strings(params.get("pag_applied_layers"));
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.golden().tensors(name);
                PixArtComponents parts = PixArtComponents.load(model, false)) {
            parts.to(fx.backend());
            PixArtSigmaPipeline pipe = new PixArtSigmaPAGPipeline(parts, layers);
            Map<String, Tensor> seen = new HashMap<>();
            pipe.setObserver((call, in, out) -> {
                seen.put("denoiser" + call + ".sample_in", in.sample());
                seen.put("denoiser" + call + ".out", out);
                if (call == 0) {
                    seen.put("denoiser0.encoder_hidden_states", in.encoderHiddenStates());
                    seen.put("denoiser0.encoder_attention_mask", in.encoderAttentionMask());
                }
            });
            TorchGenerator generator = new TorchGenerator(((Number) params.get("seed")).longValue());
            List<Tensor> draws = new ArrayList<>();
            for (Object o : list(c, "noise_calls")) {
                Map<String, Object> call = map(o);
                Tensor draw = generator.randn(GoldenFixtures.ints(call.get("shape")));
                chk.abs("seeded " + call.get("tensor"), draw, ref.tensor((String) call.get("tensor")), 0);
                draws.add(ref.tensor((String) call.get("tensor")));
            }
            GenerationResult r = pipe.generate(params(params, draws, seen));
            for (String t : ref.names()) {
                if (t.startsWith("denoiser") || t.startsWith("step")) {
                    Tensor got = seen.get(t);
                    if (got == null) {
                        chk.record(t + " (never produced)", Double.NaN, 0);
                    } else {
                        chk.rel(t, got, ref.tensor(t), ModelCases.INTERMEDIATE_TOL);
                    }
                }
            }
            chk.rel("output.latent", r.latents(), ref.tensor("output.latent"), PipelineCases.LATENT_TOL);
            chk.abs("output.np", r.numpy(), ref.tensor("output.np"), PipelineCases.NP_TOL);
            for (Map.Entry<String, Object> e : map(c.getOrDefault("equivalence_checks", Map.of())).entrySet()) {
                if (!e.getKey().startsWith("from_pipe")) {
                    chk.record("equivalence " + e.getKey() + " (unknown kind)", Double.NaN, 0);
                    continue;
                }
                PixArtSigmaPipeline plain = new PixArtSigmaPipeline(parts, false, null);
                PixArtSigmaPipeline other = AutoPipelineForText2Image.fromPipe(plain, true, layers);
                Tensor lat = other.generate(params(params, draws, new HashMap<>()).toBuilder()
                        .outputType(GenerationParams.OutputType.LATENT).build()).latents();
                double expected = ((Number) map(e.getValue()).get("max_abs_diff_vs_output_latent")).doubleValue();
                chk.record("equivalence " + e.getKey(), Difference.of(lat, r.latents()).maxAbs(), expected);
            }
        }
        return chk.result();
    }

    private static GenerationParams params(Map<String, Object> params, List<Tensor> draws, Map<String, Tensor> seen) {
        GenerationParams.Builder b = GenerationParams.builder((String) params.get("prompt"))
                .negativePrompt((String) params.get("negative_prompt"))
                .steps(((Number) params.get("num_inference_steps")).intValue())
                .guidanceScale(((Number) params.getOrDefault("guidance_scale", 4.5)).floatValue())
                .pagScale(((Number) params.getOrDefault("pag_scale", 3.0)).floatValue())
                .pagAdaptiveScale(((Number) params.getOrDefault("pag_adaptive_scale", 0.0)).floatValue())
                .maxSequenceLength(((Number) params.getOrDefault("max_sequence_length", 300)).intValue())
                .useResolutionBinning((Boolean) params.getOrDefault("use_resolution_binning", true))
                .noise(NoiseSource.replay(draws))
                .callback(s -> seen.put("step" + s.index() + ".latents", s.latents()));
        if (params.get("height") != null) {
            b.size(((Number) params.get("height")).intValue(), ((Number) params.get("width")).intValue());
        }
        return b.build();
    }
}
