package dev.pagoda.nn.unet;

import static dev.pagoda.nn.unet.NonSquareLatentTest.randn;
import static dev.pagoda.nn.unet.NonSquareLatentTest.rel;
import static dev.pagoda.nn.unet.NonSquareLatentTest.row;
import static dev.pagoda.nn.unet.NonSquareLatentTest.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoadException;
import dev.pagoda.nn.controlnet.ControlNetConfig;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNetFloat64.Image;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny SDXL ControlNet (real golden weights) against {@link UNetFloat64#controlnet}, a scalar
 * float64 evaluation of diffusers' {@code ControlNetModel.forward}, at non-square latents, batch 2
 * with per-row timesteps, plain and guess-mode scaling; plus multi-ControlNet summation and the
 * named errors. It lives beside the UNet's oracle, which it shares.
 */
class ControlNetFloat64Test {

    static final double TOL = NonSquareLatentTest.TOL;

    static ControlNetModel net;
    static UNet2DConditionModel unet;
    static UNetFloat64 ref;
    static Path folder;

    @BeforeAll
    static void load() throws IOException {
        folder = GoldenFixtures.vendored().model("tiny-sdxl-controlnet");
        net = ControlNetModel.fromPretrained(folder, false);
        Path unetConfig = GoldenFixtures.vendored().model("tiny-sdxl").resolve("unet/config.json");
        unet = UNet2DConditionModel.fromConfig(unetConfig);
        Map<String, Object> cfg = Json.parseObject(Files.readString(folder.resolve("config.json")));
        ref = UNetFloat64.ofUNet(net, cfg);
    }

    @AfterAll
    static void close() {
        net.close();
    }

    private record Call(Tensor sample, float[] timesteps, Tensor context, Tensor text, Tensor ids, Tensor image) {
        static Call random(Random r, int b, int h, int w, float[] timesteps) {
            float[] ids = new float[b * 6];
            for (int i = 0; i < b; i++) {
                System.arraycopy(new float[] {8 * h, 8 * w, 0, 0, 8 * h, 8 * w}, 0, ids, i * 6, 6);
            }
            float[] img = new float[b * 3 * 8 * h * 8 * w];
            for (int i = 0; i < img.length; i++) {
                img[i] = r.nextFloat();
            }
            return new Call(randn(r, b, 4, h, w), timesteps, randn(r, b, 7, 48), randn(r, b, 32),
                    Tensor.of(ids, b, 6), Tensor.of(img, b, 3, 8 * h, 8 * w));
        }

        ControlNetModel.Input input(float scale, boolean guess) {
            return new ControlNetModel.Input(sample, timesteps, context, text, ids, image, scale, guess);
        }

        List<Image> reference(int i, double scale, boolean guess) {
            double t = timesteps[timesteps.length == 1 ? 0 : i];
            return ref.controlnet(Image.row(sample, i), Image.row(image, i), t, rows(context, i), row(text, i),
                    row(ids, i), scale, guess);
        }
    }

    private static void assertMatches(Call c, ControlNetModel.Output out, float scale, boolean guess) {
        List<Tensor> got = new java.util.ArrayList<>(out.downResiduals());
        got.add(out.midResidual());
        assertEquals(10, got.size(), "9 skip residuals and the mid residual");
        for (int k = 0; k < got.size(); k++) {
            int kk = k;
            double rel = rel(got.get(k), i -> c.reference(i, scale, guess).get(kk));
            assertTrue(rel <= TOL, "residual " + k + ": rel " + rel + " exceeds " + TOL);
            double maxRef = c.reference(0, scale, guess).get(k).v().length == 0 ? 0
                    : java.util.Arrays.stream(c.reference(0, scale, guess).get(k).v()).map(Math::abs).max().orElse(0);
            assertTrue(maxRef > 1e-4, "residual " + k + " of the reference is ~0; the comparison would prove nothing");
        }
    }

    @Test
    void forwardAtWideLatentsBatchTwoMatchesFloat64() {
        Call c = Call.random(new Random(31), 2, 8, 12, new float[] {801f, 17.5f});
        assertMatches(c, net.forward(c.input(0.8f, false)), 0.8f, false);
    }

    @Test
    void forwardAtTallLatentsInGuessModeMatchesFloat64() {
        Call c = Call.random(new Random(32), 1, 12, 4, new float[] {333f});
        assertMatches(c, net.forward(c.input(0.5f, true)), 0.5f, true);
    }

    @Test
    void multiControlNetIsTheSumOfSingles() {
        Random r = new Random(33);
        Call a = Call.random(r, 1, 4, 8, new float[] {500f});
        Tensor other = Call.random(r, 1, 4, 8, new float[] {500f}).image();
        MultiControlNetModel multi = new MultiControlNetModel(List.of(net, net));
        ControlNetModel.Output sum = multi.forward(a.input(1f, false), List.of(a.image(), other), new float[] {0.7f, 0.4f});
        ControlNetModel.Output one = net.forward(a.input(0.7f, false));
        ControlNetModel.Output two = net.forward(new ControlNetModel.Input(a.sample(), a.timesteps(), a.context(),
                a.text(), a.ids(), other, 0.4f, false));
        ControlNetModel.Output expected = one.plus(two);
        for (int k = 0; k < 9; k++) {
            assertEquals(0.0, Difference.of(sum.downResiduals().get(k), expected.downResiduals().get(k)).maxAbs());
        }
        assertEquals(0.0, Difference.of(sum.midResidual(), expected.midResidual()).maxAbs());
        // a net at scale 0 adds nothing
        ControlNetModel.Output zero = multi.forward(a.input(1f, false), List.of(a.image(), other), new float[] {0.7f, 0f});
        assertEquals(0.0, Difference.of(zero.midResidual(), one.midResidual()).maxAbs());
    }

    @Test
    void controlImageOfTheWrongSizeIsANamedError() {
        Call c = Call.random(new Random(34), 1, 4, 8, new float[] {1f});
        Tensor small = Tensor.zeros(1, 3, 32, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.forward(
                new ControlNetModel.Input(c.sample(), c.timesteps(), c.context(), c.text(), c.ids(), small, 1f, false)));
        assertTrue(e.getMessage().contains("controlnet_cond must be [1, 3, 32, 64]"), e.getMessage());
    }

    @Test
    void netThatDoesNotFitTheUNetIsRejectedNamingTheField() {
        JsonConfig cfg = JsonConfig.read(folder.resolve("config.json"));
        ControlNetModel wrongCross = new ControlNetModel(ControlNetConfig.from(cfg.with("cross_attention_dim", 64L)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> wrongCross.checkCompatible(unet, "ControlNet 0"));
        assertTrue(e.getMessage().contains("cross_attention_dim 64 does not match the UNet's 48"), e.getMessage());
        ControlNetModel noAdd = new ControlNetModel(ControlNetConfig.from(cfg.with("addition_embed_type", null)));
        e = assertThrows(IllegalArgumentException.class, () -> noAdd.checkCompatible(unet, "ControlNet 1"));
        assertTrue(e.getMessage().startsWith("ControlNet 1: addition embedding"), e.getMessage());
        net.checkCompatible(unet, "ControlNet");
    }

    @Test
    void latentChannelNetFitsANineChannelInpaintingUNetOnly() {
        JsonConfig unetCfg = JsonConfig.read(GoldenFixtures.vendored().model("tiny-sdxl").resolve("unet/config.json"));
        // a 9-channel inpainting UNet feeds its nets the 4 latent channels (diffusers' control_model_input)
        UNet2DConditionModel inpainting = new UNet2DConditionModel(UNetConfig.from(unetCfg.with("in_channels", 9L)));
        net.checkCompatible(inpainting, "ControlNet");
        // any other channel count still has to match
        UNet2DConditionModel eight = new UNet2DConditionModel(UNetConfig.from(unetCfg.with("in_channels", 8L)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.checkCompatible(eight, "ControlNet 0"));
        assertTrue(e.getMessage().contains("in_channels 4") && e.getMessage().contains("(8,"), e.getMessage());
        JsonConfig cfg = JsonConfig.read(folder.resolve("config.json"));
        ControlNetModel nine = new ControlNetModel(ControlNetConfig.from(cfg.with("in_channels", 9L)));
        e = assertThrows(IllegalArgumentException.class, () -> nine.checkCompatible(unet, "ControlNet 1"));
        assertTrue(e.getMessage().contains("in_channels 9"), e.getMessage());
    }

    @Test
    void missingWeightIsListedByName(@TempDir Path tmp) throws IOException {
        Files.copy(folder.resolve("config.json"), tmp.resolve("config.json"));
        try (SafetensorsFile src = SafetensorsFile.open(folder.resolve("diffusion_pytorch_model.safetensors"))) {
            Map<String, Tensor> kept = new java.util.LinkedHashMap<>();
            for (String n : src.names()) {
                if (!n.equals("controlnet_mid_block.weight")) {
                    kept.put(n, src.tensor(n));
                }
            }
            dev.pagoda.tensor.safetensors.SafetensorsWriter.write(tmp.resolve("diffusion_pytorch_model.safetensors"), kept);
        }
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> ControlNetModel.fromPretrained(tmp, false));
        assertTrue(e.getMessage().contains("controlnet_mid_block.weight"), e.getMessage());
    }

    @Test
    void forwardAfterCloseIsRefused() {
        ControlNetModel other = ControlNetModel.fromPretrained(folder, false);
        other.close();
        Call c = Call.random(new Random(35), 1, 4, 4, new float[] {1f});
        assertThrows(IllegalStateException.class, () -> other.forward(c.input(1f, false)));
    }
}
