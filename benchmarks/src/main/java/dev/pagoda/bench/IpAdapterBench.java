package dev.pagoda.bench;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.clip.ClipVisionOutput;
import dev.pagoda.nn.ipadapter.IpAdapterLoader;
import dev.pagoda.nn.ipadapter.IpAdapterPlusImageProjection;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The real-size cost of IP-Adapter plus SDXL ({@code benchmarks/configs/ip-adapter-plus-sdxl-vit-h}):
 * the ViT-H/14 image encode of one 224² image (with hidden states, as the plus adapter needs the
 * penultimate one), the Resampler, and one SDXL base UNet step of the CFG+PAG batch
 * [uncond, cond, perturbed] (PAG on "mid") without and then with the adapter's 16 image tokens on all
 * 70 cross-attention modules. Random F16 weights everywhere; a timed tool rather than JMH because a
 * 1024² step takes minutes on two cores.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx14g -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.IpAdapterBench [--resolution 1024] [--reps 1] [--encode-reps 3]
 * </pre>
 */
public final class IpAdapterBench {

    private static final String MODEL = "ip-adapter-plus-sdxl-vit-h";

    private IpAdapterBench() {
    }

    public static void main(String[] args) {
        int res = Integer.parseInt(RealSizeModels.arg(args, "resolution", "1024"));
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "1"));
        int encodeReps = Integer.parseInt(RealSizeModels.arg(args, "encode-reps", "3"));
        Random r = new Random(3);

        ClipVisionModel encoder = RealSizeModels.randomize(
                ClipVisionModel.fromConfig(RealSizeModels.config(MODEL, "image_encoder")), DType.F16);
        JsonConfig pc = JsonConfig.read(RealSizeModels.config(MODEL, "image_proj"));
        IpAdapterPlusImageProjection resampler = RealSizeModels.randomize(new IpAdapterPlusImageProjection(
                pc.integer("embed_dims"), pc.integer("output_dims"), pc.integer("hidden_dims"), pc.integer("depth"),
                pc.integer("dim_head"), pc.integer("heads"), pc.integer("num_queries"), pc.integer("ffn_ratio")),
                DType.F16);
        int size = encoder.config().imageSize();
        // diffusers encodes the image and, for CFG, a zero image (prepare_ip_adapter_image_embeds): batch 2
        Tensor pixels = UNetStepBench.random(r, 2, 3, size, size);
        Tensor tokens = null;
        for (int i = 0; i < encodeReps; i++) {
            long t0 = System.nanoTime();
            ClipVisionOutput o = encoder.forward(pixels);
            long t1 = System.nanoTime();
            tokens = resampler.project(o.penultimateHiddenState());
            long t2 = System.nanoTime();
            System.out.printf("IpAdapterBench threads=%d: image encode (ViT-H/14, batch 2: image + zero image, %d tokens)"
                    + " %.2f s, Resampler %.3f s, peak RSS %.2f GiB, tokens %s%n", Parallel.threads(),
                    o.lastHiddenState().dim(1), (t1 - t0) / 1e9, (t2 - t1) / 1e9, RealSizeModels.peakRssGiB(), tokens);
        }
        encoder = null;

        UNet2DConditionModel unet = RealSizeModels.randomize(
                UNet2DConditionModel.fromConfig(RealSizeModels.config("sdxl-base-1.0", "unet")), DType.F16);
        Map<Attention, IpAdapterPlan.KeyValue> kv = new LinkedHashMap<>();
        Map<Attention, Float> scales = new LinkedHashMap<>();
        long ipParams = 0;
        for (Attention a : IpAdapterLoader.crossAttention(unet).values()) {
            int[] w = a.namedParameters().get("to_k.weight").shape();
            Linear k = new Linear(w[1], w[0], false);
            Linear v = new Linear(w[1], w[0], false);
            WeightLoader.randomize(k, DType.F16, 11);
            WeightLoader.randomize(v, DType.F16, 12);
            ipParams += k.parameterCount() + v.parameterCount();
            kv.put(a, new IpAdapterPlan.KeyValue(k, v));
            scales.put(a, 0.7f);
        }
        System.err.printf("to_k_ip/to_v_ip on %d cross-attention modules: %,d F16 parameters; Resampler %,d%n",
                kv.size(), ipParams, resampler.parameterCount());
        // rows [uncond, cond, perturbed]: zero-image tokens, then the image's tokens twice (PAG repeats cond)
        Tensor ipTokens = tokens.backend().concat(0, tokens.narrow(0, 1, 1), tokens.narrow(0, 0, 1),
                tokens.narrow(0, 0, 1));
        IpAdapterPlan ip = new IpAdapterPlan(List.of(new IpAdapterPlan.Adapter(kv, ipTokens, scales)), List.of());

        var cfg = unet.config();
        int lat = res / 8;
        Tensor sample = twin(UNetStepBench.random(r, 3, cfg.inChannels(), lat, lat));
        Tensor ehs = twin(UNetStepBench.random(r, 3, 77, cfg.crossAttentionDim()));
        Tensor text = twin(UNetStepBench.random(r, 3, cfg.projectionClassEmbeddingsInputDim()
                - 6 * cfg.additionTimeEmbedDim()));
        float[] ids = new float[18];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(new float[] {res, res, 0, 0, res, res}, 0, ids, i * 6, 6);
        }
        Tensor timeIds = Tensor.of(ids, 3, 6);
        PagPlan pag = PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), 3, 1);
        for (int rep = 0; rep < reps; rep++) {
            for (IpAdapterPlan plan : new IpAdapterPlan[] {IpAdapterPlan.NONE, ip}) {
                long t0 = System.nanoTime();
                Tensor out = unet.forward(new UNet2DConditionModel.Input(sample, new float[] {500f}, ehs, text, timeIds,
                        pag, null, null, plan));
                System.out.printf("IpAdapterBench threads=%d: SDXL UNet %dx%d CFG+PAG mid step (batch 3) %s: %.2f s,"
                        + " peak RSS %.2f GiB (%s)%n", Parallel.threads(), res, res,
                        plan.isEmpty() ? "without IP-Adapter" : "with IP-Adapter plus (16 tokens, 70 modules)",
                        (System.nanoTime() - t0) / 1e9, RealSizeModels.peakRssGiB(), out);
            }
        }
    }

    /** Rows 0 and 1 of {@code x[3, ...]} with row 1 repeated as row 2 (the PAG plan promises it). */
    private static Tensor twin(Tensor x) {
        return x.backend().concat(0, x.narrow(0, 0, 2), x.narrow(0, 1, 1));
    }
}
