package dev.pagoda.diffusion.conformance;

import static dev.pagoda.diffusion.conformance.Fixtures.list;
import static dev.pagoda.diffusion.conformance.Fixtures.map;
import static dev.pagoda.diffusion.conformance.Fixtures.strings;

import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.pipeline.SdxlPromptEncoder;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTextOutput;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.nn.vae.LatentDistribution;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Single-module golden cases: text encoders, UNet forward (plain and PAG), PAG selection, VAE. */
final class ModelCases {

    static final double MODULE_TOL = 1e-4;
    static final double INTERMEDIATE_TOL = 1e-4;

    private ModelCases() {
    }

    static CaseResult textEncoders(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.model((String) map(fx.index().get("models")).get("sdxl"));
        Checks chk = new Checks(name);
        try (TensorStore s1 = WeightFiles.open(model.resolve("text_encoder"), "model", false);
                TensorStore s2 = WeightFiles.open(model.resolve("text_encoder_2"), "model", false);
                SafetensorsFile ref = fx.tensors(name)) {
            ClipTextModel te1 = ClipTextModel.fromConfig(model.resolve("text_encoder/config.json"));
            ClipTextModel te2 = ClipTextModel.fromConfig(model.resolve("text_encoder_2/config.json"));
            WeightLoader.load(te1, s1, "", ClipTextModel.IGNORED_KEYS);
            WeightLoader.load(te2, s2, "", ClipTextModel.IGNORED_KEYS);
            te1.to(fx.backend());
            te2.to(fx.backend());
            List<Object> items = list(c, "items");
            for (int k = 0; k < items.size(); k++) {
                Map<String, Object> item = map(items.get(k));
                for (int e = 1; e <= 2; e++) {
                    String p = "p" + k + ".te" + e + ".";
                    ClipTextOutput out = (e == 1 ? te1 : te2).forward(Fixtures.longs(item.get("te" + e + "_input_ids")));
                    chk.exact(p + "pooled_position", out.pooledPositions()[0],
                            ((Number) item.get("te" + e + "_pooled_position")).intValue());
                    chk.rel(p + "last_hidden_state", out.lastHiddenState(), ref.tensor(p + "last_hidden_state"), MODULE_TOL);
                    chk.rel(p + "penultimate_hidden_state", out.penultimateHiddenState(),
                            ref.tensor(p + "penultimate_hidden_state"), MODULE_TOL);
                    for (int i = 0; i < out.hiddenStates().size(); i++) {
                        chk.rel(p + "hidden_states." + i, out.hiddenStates().get(i), ref.tensor(p + "hidden_states." + i),
                                MODULE_TOL);
                    }
                    if (e == 1) {
                        chk.rel(p + "pooler_output", out.poolerOutput(), ref.tensor(p + "pooler_output"), MODULE_TOL);
                    } else {
                        chk.rel(p + "text_embeds", out.textEmbeds(), ref.tensor(p + "text_embeds"), MODULE_TOL);
                    }
                }
            }
            // The prompt encoder, like the pipelines, runs the text encoders on the host.
            te1.to(Backend.cpu());
            te2.to(Backend.cpu());
            SdxlPromptEncoder encoder = new SdxlPromptEncoder(ClipTokenizer.fromFolder(model.resolve("tokenizer")),
                    ClipTokenizer.fromFolder(model.resolve("tokenizer_2")), te1, te2, true);
            for (Object o : list(c, "encode_prompt")) {
                Map<String, Object> ep = map(o);
                String j = "encode" + ((Number) ep.get("index")).intValue() + ".";
                SdxlPromptEncoder.Encoded enc = encoder.encode((String) ep.get("prompt"), null,
                        (String) ep.get("negative_prompt"), null, true);
                chk.rel(j + "prompt_embeds", enc.positive().embeds(), ref.tensor(j + "prompt_embeds"), MODULE_TOL);
                chk.rel(j + "pooled_prompt_embeds", enc.positive().pooled(), ref.tensor(j + "pooled_prompt_embeds"),
                        MODULE_TOL);
                chk.rel(j + "negative_prompt_embeds", enc.negative().embeds(), ref.tensor(j + "negative_prompt_embeds"),
                        MODULE_TOL);
                chk.rel(j + "negative_pooled_prompt_embeds", enc.negative().pooled(),
                        ref.tensor(j + "negative_pooled_prompt_embeds"), MODULE_TOL);
            }
        }
        return chk.result();
    }

    static CaseResult unet(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.model((String) map(fx.index().get("models")).get("sdxl"));
        Checks chk = new Checks(name);
        try (TensorStore w = WeightFiles.open(model.resolve("unet"), "diffusion_pytorch_model", false);
                SafetensorsFile ref = fx.tensors(name)) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(model.resolve("unet/config.json"));
            WeightLoader.load(unet, w, "");
            unet.to(fx.backend());
            float timestep = ((Number) c.get("timestep")).floatValue();
            for (Object o : list(c, "runs")) {
                Map<String, Object> run = map(o);
                List<String> rows = strings(run.get("batch"));
                // the fixture names its batch; the one layout builder must reproduce it
                boolean cfg = rows.contains("neg");
                List<Attention> modules = List.of();
                if (run.get("selection") != null) {
                    List<String> sel = strings(run.get("selection"));
                    chk.exact(run.get("name") + ".pag_modules", PagLayers.select(unet, sel),
                            strings(run.get("pag_modules")));
                    modules = PagLayers.modules(unet, sel, PagLayers.Mode.DIFFUSERS);
                    chk.exact(run.get("name") + ".processor", (String) run.get("processor"),
                            cfg ? "PAGCFGIdentitySelfAttnProcessor2_0" : "PAGIdentitySelfAttnProcessor2_0");
                }
                GuidedBatch batch = GuidedBatch.of(new Guidance(cfg ? 5f : 1f, modules.isEmpty() ? 0f : 3f, 0f, 0f,
                        !modules.isEmpty()), 1, modules);
                chk.exact(run.get("name") + ".batch", batch.terms().stream()
                        .map(t -> t == GuidedBatch.Term.UNCOND ? "neg" : "pos").toList(), rows);
                Backend device = fx.backend();
                Tensor out = unet.forward(new UNet2DConditionModel.Input(
                        device.resident(batch.repeat(ref.tensor("in.sample"))), new float[] {timestep},
                        device.resident(batch.conditioning(ref.tensor("in.encoder_hidden_states.neg"),
                                ref.tensor("in.encoder_hidden_states.pos"))),
                        device.resident(batch.conditioning(ref.tensor("in.text_embeds.neg"),
                                ref.tensor("in.text_embeds.pos"))),
                        device.resident(batch.repeat(ref.tensor("in.time_ids"))), batch.pagPlan(), null, null));
                chk.rel((String) run.get("tensor"), out, ref.tensor((String) run.get("tensor")), MODULE_TOL);
            }
        }
        return chk.result();
    }

    static CaseResult pagSelection(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.model((String) map(fx.index().get("models")).get("sdxl"));
        Checks chk = new Checks(name);
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(model.resolve("unet/config.json"));
        List<String> unetNames = new ArrayList<>(PagLayers.selfAttentions(unet).keySet());
        chk.exact("unet_self_attention_modules", unetNames, strings(c.get("unet_self_attention_modules")));
        // PixArt's names come from the case: selection only depends on the names
        List<String> pixartNames = strings(c.get("pixart_self_attention_modules"));
        int i = 0;
        for (Object o : list(c, "items")) {
            Map<String, Object> item = map(o);
            List<String> names = item.get("model").equals("unet") ? unetNames : pixartNames;
            List<String> sel = strings(item.get("selection"));
            String what = "items." + i++ + " " + sel;
            String error = (String) item.get("error");
            try {
                List<String> got = PagLayers.select(names, sel, PagLayers.Mode.DIFFUSERS);
                chk.exact(what, got, error == null ? strings(item.get("modules")) : "error " + error);
            } catch (IllegalArgumentException e) {
                chk.exact(what, error != null && error.contains(e.getMessage()), true);
            }
        }
        return chk.result();
    }

    static CaseResult vae(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.model((String) map(fx.index().get("models")).get("sdxl"));
        Checks chk = new Checks(name);
        try (TensorStore w = WeightFiles.open(model.resolve("vae"), "diffusion_pytorch_model", false);
                SafetensorsFile ref = fx.tensors(name)) {
            AutoencoderKL vae = AutoencoderKL.fromConfig(model.resolve("vae/config.json"));
            WeightLoader.load(vae, w, "");
            vae.to(fx.backend());
            Backend device = fx.backend();
            Tensor img = dev.pagoda.diffusion.image.ImageTensors.toTensor(
                    dev.pagoda.diffusion.image.ImageSource.load(fx.caseDir(name).resolve((String) c.get("input_png"))
                            .toString()));
            chk.rel("image_preprocessed", img, ref.tensor("image_preprocessed"), 0);
            LatentDistribution d = vae.encode(device.resident(img));
            chk.rel("latent_dist.mean", d.mean(), ref.tensor("latent_dist.mean"), MODULE_TOL);
            chk.rel("latent_dist.logvar", d.logvar(), ref.tensor("latent_dist.logvar"), MODULE_TOL);
            chk.rel("latent_dist.std", d.std(), ref.tensor("latent_dist.std"), MODULE_TOL);
            Tensor sample = d.sample(device.resident(ref.tensor("noise.000")));
            chk.rel("latent_sample", sample, ref.tensor("latent_sample"), MODULE_TOL);
            chk.rel("latent_sample_scaled", vae.scaleLatents(sample), ref.tensor("latent_sample_scaled"), MODULE_TOL);
            chk.rel("decode_of_latent_sample", vae.decode(device.resident(ref.tensor("latent_sample"))),
                    ref.tensor("decode_of_latent_sample"), MODULE_TOL);
            Tensor lat = device.resident(ref.tensor("pipeline_latents"));
            Tensor dec = vae.decode(vae.unscale(lat));
            chk.rel("decode_of_pipeline_latents", dec, ref.tensor("decode_of_pipeline_latents"), MODULE_TOL);
            chk.rel("decode_of_pipeline_latents_unscaled", vae.decode(lat),
                    ref.tensor("decode_of_pipeline_latents_unscaled"), MODULE_TOL);
            chk.abs("decode_of_pipeline_latents.np", dev.pagoda.diffusion.image.ImageTensors.toNumpyLayout(device.toHost(dec)),
                    ref.tensor("decode_of_pipeline_latents.np"), 1e-4);
        }
        return chk.result();
    }
}
