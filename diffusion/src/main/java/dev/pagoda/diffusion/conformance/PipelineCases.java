package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;
import static dev.pagoda.tensor.golden.GoldenFixtures.strings;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.pipeline.AutoPipelineForImage2Image;
import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.ControlNetParams;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.GenerationResult;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlComponents;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whole-pipeline golden cases (SDXL text-to-image, image-to-image, inpainting, with PAG), replaying
 * the recorded noise and comparing every intermediate the case stores, then its equivalence checks
 * (the same run through {@code fromPipe}, or with PAG off, must agree).
 */
final class PipelineCases {

    static final double LATENT_TOL = 2e-4;
    static final double NP_TOL = 1e-4;

    private PipelineCases() {
    }

    static CaseResult run(Fixtures fx, String name, Map<String, Object> c) {
        Map<String, Object> params = map(c.get("params"));
        String cls = (String) params.get("pipeline_class");
        if (cls.startsWith("PixArtSigma")) {
            return PixArtCases.pipeline(fx, name, c);
        }
        if (cls.startsWith("StableDiffusionPAG")) {
            return SdPipelineCases.run(fx, name, c);
        }
        if (!cls.startsWith("StableDiffusionXL") || !cls.contains("PAG")) {
            return CaseResult.unsupported(name, "pipeline " + cls);
        }
        Path model = fx.golden().path((String) c.get("model"));
        List<String> layers = strings(params.get("pag_applied_layers"));
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.golden().tensors(name);
                SdxlComponents parts = SdxlComponents.load(model, false)) {
            parts.to(fx.backend());
            if (c.get("ip_adapter_model") != null) {
                IpAdapterCases.load(fx, c, params, parts);
                IpAdapterCases.checkComponents(fx, name, params, parts, ref, chk);
            }
            MultiControlNetModel controlnet = null;
            if (c.get("controlnet_model") != null) {
                ControlNetModel net = ControlNetModel.fromPretrained(fx.golden().path((String) c.get("controlnet_model")),
                        false);
                controlnet = parts.attachControlNets(List.of(net));
            }
            SdxlPipeline pipe = create(cls, parts, controlnet, true, layers);
            Map<String, Tensor> seen = new HashMap<>();
            pipe.setObserver((call, in, out) -> {
                seen.put("denoiser" + call + ".sample_in", in.sample());
                seen.put("denoiser" + call + ".out", out);
                if (call == 0) {
                    seen.put("denoiser0.encoder_hidden_states", in.encoderHiddenStates());
                    seen.put("denoiser0.text_embeds", in.textEmbeds());
                    seen.put("denoiser0.time_ids", in.timeIds());
                    if (in.downResiduals() != null) {
                        for (int i = 0; i < in.downResiduals().size(); i++) {
                            seen.put("denoiser0.controlnet_down_residual." + i, in.downResiduals().get(i));
                        }
                        seen.put("denoiser0.controlnet_mid_residual", in.midResidual());
                    }
                    for (int i = 0; i < in.ipAdapter().imageEmbeds().size(); i++) {
                        seen.put("denoiser0.ip_image_embeds." + i, in.ipAdapter().imageEmbeds().get(i));
                    }
                }
            });
            GenerationParams p = params(fx, name, c, params, ref, seen);
            // "seed" means the same noise as diffusers: the torch generator regenerates every recorded draw
            TorchGenerator generator = new TorchGenerator(((Number) params.get("seed")).longValue());
            for (Object o : list(c, "noise_calls")) {
                Map<String, Object> call = map(o);
                Tensor draw = generator.randn(GoldenFixtures.ints(call.get("shape")));
                chk.abs("seeded " + call.get("tensor"), draw, ref.tensor((String) call.get("tensor")), 0);
            }
            if (ref.contains("image_preprocessed")) {
                chk.abs("image_preprocessed", p.image(), ref.tensor("image_preprocessed"), 0);
            }
            if (ref.contains("controlnet0.controlnet_cond")) {
                java.awt.image.BufferedImage img = p.controlNet().images().get(0);
                chk.abs("controlnet0.controlnet_cond", ImageTensors.toControlTensor(img,
                        p.height() != null ? p.height() : img.getHeight(), p.width() != null ? p.width() : img.getWidth()),
                        ref.tensor("controlnet0.controlnet_cond"), 0);
            }
            if (ref.contains("mask_preprocessed")) {
                chk.abs("mask_preprocessed", p.mask(), ref.tensor("mask_preprocessed"), 0);
            }
            GenerationResult r = pipe.generate(p);
            for (String t : ref.names()) {
                if (t.startsWith("denoiser") || t.startsWith("step")) {
                    Tensor got = seen.get(t);
                    if (got == null) {
                        chk.record(t + " (never produced)", Double.NaN, INTERMEDIATE_TOL_OR_ZERO);
                    } else {
                        chk.rel(t, got, ref.tensor(t), ModelCases.INTERMEDIATE_TOL);
                    }
                }
            }
            chk.rel("output.latent", r.latents(), ref.tensor("output.latent"), LATENT_TOL);
            chk.abs("output.np", r.numpy(), ref.tensor("output.np"), NP_TOL);

            for (Map.Entry<String, Object> e : map(c.getOrDefault("equivalence_checks", Map.of())).entrySet()) {
                String how = e.getKey();
                SdxlPipeline other;
                GenerationParams q = params(fx, name, c, params, ref, new HashMap<>()).toBuilder()
                        .outputType(GenerationParams.OutputType.LATENT).build();
                if (how.startsWith("from_pipe")) {
                    SdxlPipeline plain = create(cls, parts, controlnet, false, layers);
                    other = switch (kind(cls)) {
                        case "img2img" -> AutoPipelineForImage2Image.fromPipe(plain, true, layers);
                        case "inpaint" -> AutoPipelineForInpainting.fromPipe(plain, true, layers);
                        default -> AutoPipelineForText2Image.fromPipe(plain, true, layers);
                    };
                } else {
                    other = create(cls, parts, controlnet, false, layers);
                }
                Tensor lat = other.generate(q).latents();
                double expected = ((Number) map(e.getValue()).get("max_abs_diff_vs_output_latent")).doubleValue();
                chk.record("equivalence " + how, Difference.of(lat, r.latents()).maxAbs(), expected);
            }
        }
        return chk.result();
    }

    /** Tolerance marker for an intermediate the run never produced: any error fails. */
    private static final double INTERMEDIATE_TOL_OR_ZERO = 0;

    private static String kind(String cls) {
        return cls.contains("Img2Img") ? "img2img" : cls.contains("Inpaint") ? "inpaint" : "t2i";
    }

    private static SdxlPipeline create(String cls, SdxlComponents parts, MultiControlNetModel controlnet, boolean pag,
            List<String> layers) {
        if (controlnet != null) {
            return kind(cls).equals("img2img")
                    ? new dev.pagoda.diffusion.pipeline.StableDiffusionXLControlNetImg2ImgPipeline(parts, controlnet, pag,
                            layers)
                    : new dev.pagoda.diffusion.pipeline.StableDiffusionXLControlNetPipeline(parts, controlnet, pag, layers);
        }
        return switch (kind(cls)) {
            case "img2img" -> new dev.pagoda.diffusion.pipeline.StableDiffusionXLImg2ImgPipeline(parts, pag, layers);
            case "inpaint" -> new dev.pagoda.diffusion.pipeline.StableDiffusionXLInpaintPipeline(parts, pag, layers);
            default -> new dev.pagoda.diffusion.pipeline.StableDiffusionXLPipeline(parts, pag, layers);
        };
    }

    static GenerationParams params(Fixtures fx, String name, Map<String, Object> c, Map<String, Object> params,
            SafetensorsFile ref, Map<String, Tensor> seen) {
        List<Tensor> draws = new ArrayList<>();
        for (Object o : list(c, "noise_calls")) {
            draws.add(ref.tensor((String) map(o).get("tensor")));
        }
        GenerationParams.Builder b = GenerationParams.builder((String) params.get("prompt"))
                .negativePrompt((String) params.get("negative_prompt"))
                .steps(((Number) params.get("num_inference_steps")).intValue())
                .guidanceScale(num(params, "guidance_scale", 5.0f))
                .pagScale(num(params, "pag_scale", 3.0f))
                .pagAdaptiveScale(num(params, "pag_adaptive_scale", 0f))
                .guidanceRescale(num(params, "guidance_rescale", 0f))
                .noise(NoiseSource.replay(draws))
                .callback(s -> seen.put("step" + s.index() + ".latents", s.latents()));
        if (params.get("height") != null) {
            b.size(((Number) params.get("height")).intValue(), ((Number) params.get("width")).intValue());
        }
        if (params.get("strength") != null) {
            b.strength(((Number) params.get("strength")).floatValue());
        }
        Path dir = fx.golden().caseDir(name);
        if (params.get("image") != null && c.get("controlnet_model") != null) {
            // ControlNet text-to-image: "image" is the control image
            b.controlNet(ControlNetParams.of(ImageSource.load(dir.resolve((String) params.get("image")).toString()))
                    .withScale(num(params, "controlnet_conditioning_scale", 1f)));
        } else if (params.get("image") != null) {
            b.image(ImageTensors.toTensor(ImageSource.load(dir.resolve((String) params.get("image")).toString())));
        }
        if (params.get("ip_adapter_image") != null) {
            b.ipAdapterImage(ImageSource.load(dir.resolve((String) params.get("ip_adapter_image")).toString()));
        }
        if (params.get("mask_image") != null) {
            b.mask(ImageTensors.toMask(ImageSource.load(dir.resolve((String) params.get("mask_image")).toString())));
        }
        return b.build();
    }

    private static float num(Map<String, Object> m, String key, float dflt) {
        Object v = m.get(key);
        return v == null ? dflt : ((Number) v).floatValue();
    }
}
