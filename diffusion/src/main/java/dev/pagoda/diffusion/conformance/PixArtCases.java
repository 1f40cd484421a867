package dev.pagoda.diffusion.conformance;

import static dev.pagoda.diffusion.conformance.Fixtures.list;
import static dev.pagoda.diffusion.conformance.Fixtures.map;
import static dev.pagoda.diffusion.conformance.Fixtures.strings;

import dev.pagoda.diffusion.guidance.Guidance;
import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.pixart.PixArtTransformer2DModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.TensorStore;
import dev.pagoda.tensor.safetensors.WeightFiles;
import java.nio.file.Path;
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
        Path model = fx.model((String) map(fx.index().get("models")).get("pixart"));
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.tensors(name);
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
}
