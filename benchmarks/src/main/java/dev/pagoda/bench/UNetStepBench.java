package dev.pagoda.bench;

import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.OpProfile;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Times one denoising step of the real-size SDXL UNet (random F16 weights): batch 1 (plain), 2 (CFG)
 * and 3 (CFG + PAG on "mid"), at 512 or 1024 pixels. A timed tool rather than JMH: one step takes
 * minutes on two cores. Prints one line per configuration with the step time and peak RSS.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx12g -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.UNetStepBench --resolution 1024 --batch 1 [--reps 1] [--model sdxl-base-1.0]
 *     [--controlnet controlnet-depth-sdxl-1.0] [--context-cache on|off]
 * </pre>
 *
 * <p>The repetitions of a batch are consecutive steps of one denoising loop: they share a
 * {@link ContextCache}, so the first ("filled") projects the text embeddings' cross-attention keys
 * and values and the later ones ("hit") reuse them, as the pipelines' loop does. {@code
 * --context-cache off} projects them at every repetition (each one a first step).
 *
 * <p>With {@code --controlnet} each step first runs the ControlNet (on the uncond and cond rows, the
 * perturbed row reusing the cond row's residuals, as the pipeline does) and prints its share.
 *
 * <p>With {@code -Dpagoda.profile=true} (CPU backend) each step also prints where its time went, per
 * backend op ({@link OpProfile}); the timing decorator adds a little to the step time, so quote step
 * times from runs without it.
 */
public final class UNetStepBench {

    private UNetStepBench() {
    }

    public static void main(String[] args) {
        int res = Integer.parseInt(RealSizeModels.arg(args, "resolution", "1024"));
        List<Integer> batches = Arrays.stream(RealSizeModels.arg(args, "batch", "1").split(","))
                .map(Integer::parseInt).toList();
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "1"));
        String model = RealSizeModels.arg(args, "model", "sdxl-base-1.0");
        // --config PATH: any UNet config.json (e.g. the tiny test model) instead of a named preset.
        String configPath = RealSizeModels.arg(args, "config", "");
        boolean contextCacheOn = !RealSizeModels.arg(args, "context-cache", "on").equals("off");
        Backend backend = BackendProvider.open(RealSizeModels.arg(args, "backend", "cpu"));
        UNet2DConditionModel unet = RealSizeModels.randomize(UNet2DConditionModel.fromConfig(configPath.isEmpty()
                ? RealSizeModels.config(model, "unet") : java.nio.file.Path.of(configPath)), DType.F16);
        if (!configPath.isEmpty()) {
            model = configPath;
        }
        unet.to(backend);
        // --controlnet NAME: a ControlNet config under benchmarks/configs (random F16 weights) feeding the UNet
        String cnName = RealSizeModels.arg(args, "controlnet", "");
        ControlNetModel controlnet = null;
        if (!cnName.isEmpty()) {
            controlnet = RealSizeModels.randomize(ControlNetModel.fromConfig(RealSizeModels.config(cnName, "")), DType.F16);
            controlnet.checkCompatible(unet, cnName);
            controlnet.to(backend);
            System.err.printf("ControlNet %s: %.3f B parameters%n", cnName, controlnet.parameterCount() / 1e9);
        }
        System.err.printf("after weights: peak RSS %.2f GiB%n", RealSizeModels.peakRssGiB());
        int lat = res / 8;
        var cfg = unet.config();
        for (int b : batches) {
            Random r = new Random(b);
            Tensor sample = random(r, b, cfg.inChannels(), lat, lat);
            Tensor ehs = random(r, b, 77, cfg.crossAttentionDim());
            Tensor text = cfg.textTime() ? random(r, b, cfg.projectionClassEmbeddingsInputDim()
                    - 6 * cfg.additionTimeEmbedDim()) : null;
            float[] ids = new float[b * 6];
            for (int i = 0; i < b; i++) {
                System.arraycopy(new float[] {res, res, 0, 0, res, res}, 0, ids, i * 6, 6);
            }
            Tensor timeIds = cfg.textTime() ? Tensor.of(ids, b, 6) : null;
            int perturbed = b == 3 ? 1 : 0;
            PagPlan plan = PagPlan.NONE;
            if (perturbed > 0) {
                // the CFG+PAG layout: the perturbed row repeats the cond row's inputs (the plan promises it)
                sample = twin(sample);
                ehs = twin(ehs);
                text = text == null ? null : twin(text);
                plan = PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), b, 1);
            }
            Tensor control = controlnet == null ? null : random(r, b - perturbed, 3, res, res);
            // as DenoiseLoop: one cache for the batch's steps, so repetitions after the first reuse the text
            // embeddings' cross-attention projections; --context-cache off projects them at every step
            ContextCache contextCache = contextCacheOn ? new ContextCache() : ContextCache.NONE;
            Tensor context = backend.resident(ehs);
            for (int rep = 0; rep < reps; rep++) {
                OpProfile.reset();
                long t0 = System.nanoTime();
                UNet2DConditionModel.Input in = new UNet2DConditionModel.Input(backend.resident(sample),
                        new float[] {500f}, context, text == null ? null : backend.resident(text),
                        timeIds == null ? null : backend.resident(timeIds), plan, null, null)
                        .withContextCache(contextCache);
                double cnSeconds = 0;
                if (controlnet != null) {
                    // as the pipeline: the nets see the uncond and cond rows; the perturbed row copies the cond row's
                    int seen = b - perturbed;
                    ControlNetModel.Output res2 = controlnet.forward(new ControlNetModel.Input(
                            in.sample().narrow(0, 0, seen), in.timesteps(), in.encoderHiddenStates().narrow(0, 0, seen),
                            in.textEmbeds() == null ? null : in.textEmbeds().narrow(0, 0, seen),
                            in.timeIds() == null ? null : in.timeIds().narrow(0, 0, seen), backend.resident(control),
                            1f, false));
                    List<Tensor> down = res2.downResiduals().stream().map(t -> perturbed > 0 ? twin(t) : t).toList();
                    in = in.withResiduals(down, perturbed > 0 ? twin(res2.midResidual()) : res2.midResidual());
                    cnSeconds = (System.nanoTime() - t0) / 1e9;
                }
                // As a pipeline step: the latents go up, the prediction comes back (which also waits
                // for a device's queue to drain).
                Tensor out = backend.toHost(unet.forward(in));
                long wall = System.nanoTime() - t0;
                double s = wall / 1e9;
                System.out.printf("UNetStepBench model=%s%s backend=%s resolution=%d batch=%d%s%s threads=%d: %.2f s/step"
                        + "%s, peak RSS %.2f GiB, peak device %.2f GiB, out %s%n", model,
                        controlnet == null ? "" : " controlnet=" + cnName, backend, res, b,
                        perturbed > 0 ? " (CFG+PAG mid)" : "",
                        contextCacheOn ? " context-cache " + (contextCache.hits() > 0 ? "hit" : "filled") : "",
                        Parallel.threads(), s,
                        controlnet == null ? "" : String.format(" (ControlNet %.2f s, UNet %.2f s)", cnSeconds,
                                s - cnSeconds), RealSizeModels.peakRssGiB(),
                        backend.peakDeviceBytes() / 1073741824.0, out);
                if (OpProfile.ENABLED) {
                    System.out.print(OpProfile.table(wall));
                }
            }
        }
    }

    static Tensor random(Random r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return t;
    }

    /** The first two rows of {@code x[3 or 2, ...]} with the second repeated as the third. */
    private static Tensor twin(Tensor x) {
        return x.backend().concat(0, x.narrow(0, 0, 2), x.narrow(0, 1, 1));
    }
}
