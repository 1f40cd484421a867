package dev.pagoda.diffusion.ipadapter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.SdxlComponents;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.ipadapter.IpAdapter;
import dev.pagoda.nn.ipadapter.IpAdapterLoader;
import dev.pagoda.nn.ipadapter.ImageProjection;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The UNet with a plain IP-Adapter, with plain + plus together, and with per-block scale dicts,
 * against diffusers 0.31 ({@code resources/ipadapter/make_unet_ip_fixture.py}: the image embeds are
 * given, so no image encoder is involved). Tolerance: the golden README's rel 1e-4 for a UNet forward.
 */
class UNetIpAdapterReferenceTest {

    static final Path RES = Path.of("src/test/resources/ipadapter");
    static final double TOL = 1e-4;

    @Test
    void plainTwoAdaptersAndPerBlockScalesMatchDiffusers() {
        try (SdxlComponents parts = SdxlComponents.load(IpAdapterPipelineTest.TINY, false);
                SafetensorsFile ref = SafetensorsFile.open(RES.resolve("unet_ip_fixture.safetensors"));
                SafetensorsFile plainFile = SafetensorsFile.open(RES.resolve("ip-adapter_sdxl_tiny_plain.safetensors"));
                SafetensorsFile plusFile = SafetensorsFile.open(IpAdapterPipelineTest.PLUS)) {
            UNet2DConditionModel unet = parts.unet();
            IpAdapter plain = IpAdapterLoader.load(unet, plainFile);
            IpAdapter plus = IpAdapterLoader.load(unet, plusFile);
            assertTrue(plain.projection() instanceof ImageProjection);

            check(ref, "plain", unet, List.of(plain), List.of(ref.tensor("plain_embeds")), List.of(0.7f));
            List<Tensor> both = List.of(ref.tensor("plain_embeds"), ref.tensor("plus_embeds"));
            check(ref, "two", unet, List.of(plain, plus), both, List.of(0.8f, 0.5f));
            check(ref, "two_per_block", unet, List.of(plain, plus), both, List.of(
                    Map.of("up", Map.of("block_0", List.of(0.0, 1.0, 0.0))),
                    Map.of("down", Map.of("block_2", List.of(0.0, 1.0)), "mid", 0.3)));
        }
    }

    private static void check(SafetensorsFile ref, String name, UNet2DConditionModel unet, List<IpAdapter> adapters,
            List<Tensor> embeds, List<?> scale) {
        IpAdapters st = IpAdapters.of(adapters, null, null).withScales(scale);
        List<IpAdapterPlan.Adapter> plan = new ArrayList<>();
        for (int i = 0; i < adapters.size(); i++) {
            IpAdapter a = adapters.get(i);
            Map<Attention, Float> s = st.scales().get(i);
            plan.add(new IpAdapterPlan.Adapter(a.weights(), IpAdapterConditioning.project(a.projection(), embeds.get(i)), s));
        }
        UNet2DConditionModel.Input in = UNet2DConditionModel.Input.of(ref.tensor("sample"), 500f,
                ref.tensor("encoder_hidden_states"), ref.tensor("text_embeds"), ref.tensor("time_ids"))
                .withIpAdapter(new IpAdapterPlan(plan, embeds));
        Tensor want = ref.tensor(name + ".out");
        Difference d = Difference.of(unet.forward(in), want);
        double rel = d.maxAbs() / Math.max(1.0, maxAbs(want));
        assertTrue(rel <= TOL, name + ": rel " + rel);
        Tensor none = unet.forward(in.withIpAdapter(IpAdapterPlan.NONE));
        assertTrue(Difference.of(none, want).maxAbs() > 100 * TOL, name + ": the reference must depend on the adapter");
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.toFloatArray()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
