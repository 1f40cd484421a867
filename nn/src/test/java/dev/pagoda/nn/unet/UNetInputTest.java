package dev.pagoda.nn.unet;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.Golden;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Input validation of the tiny SDXL UNet. Its outputs are compared with diffusers' (plain and every
 * PAG selection of case unet_forward) by the conformance runner (GoldenConformanceTest).
 */
class UNetInputTest {

    static final double TOL = 1e-4;
    static SafetensorsFile weights;
    static SafetensorsFile ref;
    static UNet2DConditionModel unet;

    @BeforeAll
    static void load() {
        unet = UNet2DConditionModel.fromConfig(Golden.model("tiny-sdxl").resolve("unet/config.json"));
        weights = SafetensorsFile.open(Golden.model("tiny-sdxl").resolve("unet/diffusion_pytorch_model.safetensors"));
        WeightLoader.load(unet, weights, "");
        ref = Golden.tensors("unet_forward");
    }

    @AfterAll
    static void close() {
        weights.close();
        ref.close();
    }

    private static UNet2DConditionModel.Input batch(List<String> rows) {
        Backend be = Backend.cpu();
        List<Tensor> s = new ArrayList<>();
        List<Tensor> e = new ArrayList<>();
        List<Tensor> t = new ArrayList<>();
        List<Tensor> ids = new ArrayList<>();
        for (String r : rows) {
            s.add(ref.tensor("in.sample"));
            e.add(ref.tensor("in.encoder_hidden_states." + r));
            t.add(ref.tensor("in.text_embeds." + r));
            ids.add(ref.tensor("in.time_ids"));
        }
        float timestep = ((Number) Golden.caseJson("unet_forward").get("timestep")).floatValue();
        return UNet2DConditionModel.Input.of(be.concat(0, s.toArray(Tensor[]::new)), timestep,
                be.concat(0, e.toArray(Tensor[]::new)), be.concat(0, t.toArray(Tensor[]::new)),
                be.concat(0, ids.toArray(Tensor[]::new)));
    }

    @Test
    void badInputsAreNamedErrors() {
        UNet2DConditionModel.Input good = batch(List.of("pos"));
        Tensor odd = Tensor.zeros(1, 4, 18, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> unet.forward(
                new UNet2DConditionModel.Input(odd, good.timesteps(), good.encoderHiddenStates(), good.textEmbeds(),
                        good.timeIds(), dev.pagoda.nn.attention.PagPlan.NONE, null, null)));
        assertTrue(e.getMessage().contains("multiples of 4"), e.getMessage());
        Tensor channels = Tensor.zeros(1, 3, 16, 16);
        e = assertThrows(IllegalArgumentException.class, () -> unet.forward(
                new UNet2DConditionModel.Input(channels, good.timesteps(), good.encoderHiddenStates(),
                        good.textEmbeds(), good.timeIds(), dev.pagoda.nn.attention.PagPlan.NONE, null, null)));
        assertTrue(e.getMessage().contains("[B, 4, H, W]"), e.getMessage());
    }
}
