package dev.pagoda.bench;

import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.cpu.OpProfile;
import dev.pagoda.tensor.cpu.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A whole SDXL image, as a user gets it: text encoders, N UNet steps with DPM-Solver++, VAE decode,
 * from a diffusers folder of random F16 weights written once from the published configs (the same
 * folder {@code benchmarks/peers/sdxl_image.py} times diffusers on). Prints per-stage seconds, the
 * GFLOP/s of each stage against its counted arithmetic (with {@code -Dpagoda.profile=true}) and the
 * process's peak RSS; one guidance mode and resolution per run, so the RSS belongs to it.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dpagoda.profile=true -Xmx16g \
 *     -cp benchmarks/target/benchmarks.jar dev.pagoda.bench.ImageBench --model-dir /tmp/sdxl-random \
 *     --resolution 1024 --steps 25 --guidance cfg+pag --rounds 3
 * </pre>
 * {@code --vae-tile PX} decodes in tiles of that edge (default: whole); {@code --keep-text-encoders} keeps the
 * text encoders' pages resident after encoding (the CLI drops them). {@code --configs DIR} (default benchmarks/configs/sdxl-base-1.0) and {@code --tokenizers DIR} (default
 * golden/models/tiny-sdxl) say where a missing model folder is written from.
 */
public final class ImageBench {

    private ImageBench() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(RealSizeModels.arg(args, "model-dir", "/tmp/pagoda-sdxl-random-f16"));
        int res = Integer.parseInt(RealSizeModels.arg(args, "resolution", "512"));
        int steps = Integer.parseInt(RealSizeModels.arg(args, "steps", "25"));
        int rounds = Integer.parseInt(RealSizeModels.arg(args, "rounds", "1"));
        String guidance = RealSizeModels.arg(args, "guidance", "cfg+pag");
        if (!guidance.equals("cfg") && !guidance.equals("cfg+pag")) {
            throw new IllegalArgumentException("--guidance must be cfg or cfg+pag, got " + guidance);
        }
        RandomModelFolder.ensure(dir, Path.of(RealSizeModels.arg(args, "configs", "benchmarks/configs/sdxl-base-1.0")),
                Path.of(RealSizeModels.arg(args, "tokenizers", "golden/models/tiny-sdxl")), DType.F16);
        boolean pag = guidance.equals("cfg+pag");
        long load0 = System.nanoTime();
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(dir,
                pag ? PipelineOptions.pag(List.of("mid")) : PipelineOptions.defaults())) {
            pipe.setScheduler("DPMSolverMultistepScheduler");
            int vaeTile = Integer.parseInt(RealSizeModels.arg(args, "vae-tile", "0"));
            if (vaeTile > 0) {
                pipe.vae().setTiling(true, vaeTile);
            }
            // as `pagoda generate` does
            pipe.components().setUnloadTextEncoderPages(!java.util.Arrays.asList(args).contains("--keep-text-encoders"));
            System.out.printf(Locale.ROOT, "ImageBench load: %.1f s, peak RSS %.2f GiB%n",
                    (System.nanoTime() - load0) / 1e9, RealSizeModels.peakRssGiB());
            List<Double> totals = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                Stages stages = new Stages();
                pipe.setStageListener(stages::begin);
                GenerationParams p = GenerationParams.builder("a photo of an astronaut riding a horse on mars")
                        .negativePrompt("blurry, low quality").size(res, res).steps(steps).guidanceScale(5f)
                        .pagScale(pag ? 3f : 0f).seed(42).build();
                long t0 = System.nanoTime();
                pipe.generate(p);
                stages.begin(null);
                double total = (System.nanoTime() - t0) / 1e9;
                totals.add(total);
                System.out.printf(Locale.ROOT, "ImageBench %s %dx%d steps=%d threads=%d round %d: total %.2f s, %s, "
                        + "peak RSS %.2f GiB%n", guidance, res, res, steps, Parallel.threads(), round, total, stages,
                        RealSizeModels.peakRssGiB());
            }
            totals.sort(null);
            int n = totals.size();
            double median = n % 2 == 1 ? totals.get(n / 2) : (totals.get(n / 2 - 1) + totals.get(n / 2)) / 2;
            System.out.printf(Locale.ROOT, "ImageBench %s %dx%d steps=%d: median total %.2f s over %d rounds%n",
                    guidance, res, res, steps, median, rounds);
        }
    }

    /** Seconds and counted GFLOP per stage, from the pipeline's stage listener. */
    private static final class Stages {
        private final Map<String, double[]> seconds = new LinkedHashMap<>();
        private String current;
        private long start;
        private double flopsAtStart;

        synchronized void begin(String name) {
            long now = System.nanoTime();
            double flops = OpProfile.entries().stream().mapToDouble(OpProfile.Entry::flops).sum();
            if (current != null) {
                seconds.put(current, new double[] {(now - start) / 1e9, flops - flopsAtStart});
            }
            current = name;
            start = now;
            flopsAtStart = flops;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            seconds.forEach((name, v) -> {
                sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f s", name, v[0]));
                if (OpProfile.ENABLED && v[1] > 0) {
                    sb.append(String.format(Locale.ROOT, " (%.0f GFLOP/s)", v[1] / 1e9 / v[0]));
                }
            });
            return sb.toString();
        }
    }
}
