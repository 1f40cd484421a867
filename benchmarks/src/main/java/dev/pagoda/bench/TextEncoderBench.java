package dev.pagoda.bench;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.clip.ClipTextOutput;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;

/**
 * Encodes one 77-token prompt with SDXL's two real-size text encoders (random F16 weights), as the
 * pipeline does, and prints the time of each and the peak RSS.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx8g -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.TextEncoderBench [--reps 3]
 * </pre>
 */
public final class TextEncoderBench {

    private TextEncoderBench() {
    }

    public static void main(String[] args) {
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "3"));
        ClipTextModel te1 = RealSizeModels.randomize(
                ClipTextModel.fromConfig(RealSizeModels.config("sdxl-base-1.0", "text_encoder")), DType.F16);
        ClipTextModel te2 = RealSizeModels.randomize(
                ClipTextModel.fromConfig(RealSizeModels.config("sdxl-base-1.0", "text_encoder_2")), DType.F16);
        // "a photo of an astronaut riding a horse on mars", padded to 77 as the pipeline does
        long[] ids = new long[77];
        long[] prompt = {49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407};
        java.util.Arrays.fill(ids, 49407);
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        Tensor input = Tensor.ofLongs(ids, 1, 77);
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            ClipTextOutput o1 = te1.forward(input);
            long t1 = System.nanoTime();
            ClipTextOutput o2 = te2.forward(input);
            long t2 = System.nanoTime();
            System.out.printf("TextEncoderBench threads=%d: text_encoder %.3f s, text_encoder_2 %.3f s, total %.3f s, "
                    + "peak RSS %.2f GiB (%s, %s)%n", Parallel.threads(), (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                    (t2 - t0) / 1e9, RealSizeModels.peakRssGiB(), o1.penultimateHiddenState(), o2.textEmbeds());
        }
    }
}
