package dev.pagoda.bench;

import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.Locale;
import java.util.Random;

/**
 * Times the real-size SDXL VAE decoder (random F16 weights) on one image and reports the process's peak
 * RSS: whole, or tiled with a given tile edge ({@link AutoencoderKL#setTiling(boolean, int)}). One
 * configuration per process, so the RSS belongs to it; give the JVM a heap limit near the target (for
 * example {@code -Xmx2g}) so the figure is what the decode needs, not what the collector let grow.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g \
 *     -cp benchmarks/target/benchmarks.jar dev.pagoda.bench.VaeDecodeBench --resolution 1024 --tile 512
 * </pre>
 * {@code --tile 0} (the default) decodes the whole image.
 */
public final class VaeDecodeBench {

    private VaeDecodeBench() {
    }

    public static void main(String[] args) {
        int res = Integer.parseInt(RealSizeModels.arg(args, "resolution", "1024"));
        int tile = Integer.parseInt(RealSizeModels.arg(args, "tile", "0"));
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "1"));
        AutoencoderKL vae = RealSizeModels.randomize(AutoencoderKL.fromConfig(
                RealSizeModels.config(RealSizeModels.arg(args, "model", "sdxl-base-1.0"), "vae")), DType.F16);
        if (tile > 0) {
            vae.setTiling(true, tile);
        }
        System.err.printf(Locale.ROOT, "after weights: peak RSS %.2f GiB%n", RealSizeModels.peakRssGiB());
        int lat = res / vae.scale();
        Tensor z = UNetStepBench.random(new Random(7), 1, vae.config().latentChannels(), lat, lat);
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            Tensor img = vae.decode(z);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "VaeDecodeBench resolution=%d tile=%s threads=%d: %.2f s, peak RSS %.2f GiB,"
                    + " max heap %.2f GiB, out %s%n", res, tile > 0 ? Integer.toString(tile) : "none",
                    Parallel.threads(), s, RealSizeModels.peakRssGiB(), Runtime.getRuntime().maxMemory() / 1073741824.0,
                    java.util.Arrays.toString(img.shape()));
        }
    }
}
