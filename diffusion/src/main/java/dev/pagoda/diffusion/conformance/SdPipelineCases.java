package dev.pagoda.diffusion.conformance;

import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;
import static dev.pagoda.tensor.golden.GoldenFixtures.strings;

import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.GenerationResult;
import dev.pagoda.diffusion.pipeline.SdComponents;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGImg2ImgPipeline;
import dev.pagoda.diffusion.pipeline.StableDiffusionPAGPipeline;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SD 1.x/2.x pipeline cases ({@code StableDiffusionPAG[Img2Img]Pipeline}): the recorded noise
 * replayed (and regenerated from the seed), every stored intermediate and both outputs compared with
 * the pipeline tolerances of the golden README.
 */
final class SdPipelineCases {

    private SdPipelineCases() {
    }

    static CaseResult run(Fixtures fx, String name, Map<String, Object> c) {
        Map<String, Object> params = map(c.get("params"));
        String cls = (String) params.get("pipeline_class");
        List<String> layers = strings(params.get("pag_applied_layers"));
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.golden().tensors(name);
                SdComponents parts = SdComponents.load(fx.golden().path((String) c.get("model")), false)) {
            parts.to(fx.backend());
            StableDiffusionPAGPipeline pipe = cls.contains("Img2Img")
                    ? new StableDiffusionPAGImg2ImgPipeline(parts, true, layers)
                    : new StableDiffusionPAGPipeline(parts, true, layers);
            Map<String, Tensor> seen = new HashMap<>();
            pipe.setObserver((call, in, out) -> {
                seen.put("denoiser" + call + ".sample_in", in.sample());
                seen.put("denoiser" + call + ".out", out);
                if (call == 0) {
                    seen.put("denoiser0.encoder_hidden_states", in.encoderHiddenStates());
                }
            });
            GenerationParams p = PipelineCases.params(fx, name, c, params, ref, seen);
            TorchGenerator generator = new TorchGenerator(((Number) params.get("seed")).longValue());
            for (Object o : list(c, "noise_calls")) {
                Map<String, Object> call = map(o);
                chk.abs("seeded " + call.get("tensor"), generator.randn(GoldenFixtures.ints(call.get("shape"))),
                        ref.tensor((String) call.get("tensor")), 0);
            }
            if (ref.contains("image_preprocessed")) {
                chk.abs("image_preprocessed", p.image(), ref.tensor("image_preprocessed"), 0);
            }
            GenerationResult r = pipe.generate(p);
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
        }
        return chk.result();
    }
}
