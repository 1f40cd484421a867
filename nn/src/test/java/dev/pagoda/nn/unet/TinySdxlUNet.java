package dev.pagoda.nn.unet;

import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.tensor.safetensors.SafetensorsFile;

/**
 * The vendored tiny SDXL UNet with its weights loaded, and the inputs of the golden
 * {@code unet_forward} fixture, for the tests that run whole forwards on it. Close it after use:
 * it holds the weight and fixture files open.
 */
record TinySdxlUNet(UNet2DConditionModel unet, Tensor sample, Tensor neg, Tensor pos, Tensor textNeg,
        Tensor textPos, Tensor timeIds, SafetensorsFile weights, SafetensorsFile fixture) implements AutoCloseable {

    static TinySdxlUNet open() {
        var model = GoldenFixtures.vendored().model("tiny-sdxl");
        SafetensorsFile w = SafetensorsFile.open(model.resolve("unet/diffusion_pytorch_model.safetensors"));
        SafetensorsFile ref = GoldenFixtures.vendored().tensors("unet_forward");
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(model.resolve("unet/config.json"));
        WeightLoader.load(unet, w, "");
        return new TinySdxlUNet(unet, ref.tensor("in.sample"), ref.tensor("in.encoder_hidden_states.neg"),
                ref.tensor("in.encoder_hidden_states.pos"), ref.tensor("in.text_embeds.neg"),
                ref.tensor("in.text_embeds.pos"), ref.tensor("in.time_ids"), w, ref);
    }

    /** The CFG+PAG batch layout [uncond, cond, cond] at timestep {@code t}, with no PAG plan yet. */
    UNet2DConditionModel.Input cfgPagBatch(float t) {
        Backend be = Backend.cpu();
        return UNet2DConditionModel.Input.of(be.concat(0, sample, sample, sample), t, be.concat(0, neg, pos, pos),
                be.concat(0, textNeg, textPos, textPos), be.concat(0, timeIds, timeIds, timeIds));
    }

    @Override
    public void close() {
        weights.close();
        fixture.close();
    }
}
