package dev.pagoda.bench;

import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.pixart.PixArtTransformer2DModel;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One CFG+PAG denoising step of the real-size PixArt-Σ XL-2 1024-MS transformer
 * ({@code benchmarks/configs/pixart-sigma-xl-2-1024-ms/transformer}, 0.61 B parameters, random BF16
 * weights): batch [uncond, cond, perturbed] of a 1024² image (128² latent, 4096 tokens), 300 T5
 * tokens of 4096 channels with a partial mask, PAG on {@code blocks.14} (the layer diffusers'
 * PixArt-Σ PAG docs use). Prints the time per step and the peak RSS.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx6g -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.PixArtStepBench [--size 1024] [--reps 1] [--layers blocks.14]
 * </pre>
 */
public final class PixArtStepBench {

    private PixArtStepBench() {
    }

    public static void main(String[] args) {
        int size = Integer.parseInt(RealSizeModels.arg(args, "size", "1024"));
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "1"));
        List<String> layers = List.of(RealSizeModels.arg(args, "layers", "blocks.14").split(","));
        PixArtTransformer2DModel tr = RealSizeModels.randomize(PixArtTransformer2DModel.fromConfig(
                RealSizeModels.config("pixart-sigma-xl-2-1024-ms", "transformer")), DType.BF16);
        List<Attention> pag = PagLayers.modules(tr, layers, PagLayers.Mode.DIFFUSERS);
        int lat = size / 8;
        int rows = 3;
        SplittableRandom r = new SplittableRandom(5);
        float[] one = new float[4 * lat * lat];
        for (int i = 0; i < one.length; i++) {
            one[i] = (float) r.nextGaussian();
        }
        float[] sample = new float[rows * one.length];
        float[] text = new float[rows * 300 * 4096];
        float[] mask = new float[rows * 300];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(one, 0, sample, b * one.length, one.length);
            SplittableRandom tr2 = new SplittableRandom(b == 0 ? 1 : 2); // uncond, then cond = perturbed
            for (int i = 0; i < 300 * 4096; i++) {
                text[b * 300 * 4096 + i] = (float) (tr2.nextGaussian() * 0.2);
            }
            for (int i = 0; i < 300; i++) {
                mask[b * 300 + i] = i < (b == 0 ? 1 : 120) ? 1 : 0;
            }
        }
        PixArtTransformer2DModel.Input in = new PixArtTransformer2DModel.Input(Tensor.of(sample, rows, 4, lat, lat),
                new float[] {999, 999, 999}, Tensor.of(text, rows, 300, 4096), Tensor.of(mask, rows, 300), null, null,
                PagPlan.of(pag, rows, 1));
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            Tensor out = tr.forward(in);
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf("PixArtStepBench threads=%d: %dx%d CFG+PAG step (batch 3, PAG %s = %d modules) %.2f s,"
                    + " peak RSS %.2f GiB (%s)%n", Parallel.threads(), size, size, layers, pag.size(), sec,
                    RealSizeModels.peakRssGiB(), out);
        }
    }
}
