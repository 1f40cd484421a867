package dev.pagoda.bench;

import dev.pagoda.opencl.OpenClBackend;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;

/**
 * GEMM, conv2d and attention throughput of an OpenCL device on SDXL's shapes, against its FP32
 * peak: the timing half of {@code benchmarks/gpu-check.sh}. Each shape is warmed up, then timed
 * over {@code --reps} launches ending in a download (which waits for the queue). A plain timed loop,
 * not JMH: device work is asynchronous and JMH's per-invocation harness would time the enqueue.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.pagoda.bench.DeviceCheck [--backend opencl[:P:D]] [--reps 10] [--lanes 128]
 * </pre>
 */
public final class DeviceCheck {

    private DeviceCheck() {
    }

    public static void main(String[] args) {
        Backend be = BackendProvider.open(RealSizeModels.arg(args, "backend", "opencl"));
        int reps = Integer.parseInt(RealSizeModels.arg(args, "reps", "10"));
        int lanes = Integer.parseInt(RealSizeModels.arg(args, "lanes", "128"));
        double peak = be instanceof OpenClBackend cl ? cl.fp32PeakGflops(lanes) : Double.NaN;
        System.out.printf("device %s, FP32 peak ≈ %.0f GFLOP/s (%d lanes per compute unit; --lanes to change)%n", be,
                peak, lanes);
        Random r = new Random(1);
        for (int[] mkn : new int[][] {{4096, 640, 640}, {1024, 1280, 1280}, {4096, 640, 5120}, {16384, 320, 320}}) {
            Tensor x = be.resident(random(r, mkn[0], mkn[1]));
            for (DType wt : new DType[] {DType.F32, DType.F16}) {
                Tensor w = be.resident(random(r, mkn[2], mkn[1]).to(wt));
                double s = time(be, reps, () -> be.linear(x, w, null));
                report("gemm " + mkn[0] + "x" + mkn[1] + "x" + mkn[2] + " " + wt, 2.0 * mkn[0] * mkn[1] * mkn[2], s, peak);
            }
        }
        for (int[] chw : new int[][] {{320, 128, 128}, {640, 64, 64}, {1280, 32, 32}, {512, 256, 256}}) {
            Tensor x = be.resident(random(r, 2, chw[0], chw[1], chw[2]));
            Tensor w = be.resident(random(r, chw[0], chw[0], 3, 3).to(DType.F16));
            double s = time(be, reps, () -> be.conv2d(x, w, null, 1, 1, 1));
            report("conv3x3 2x" + chw[0] + "x" + chw[1] + "x" + chw[2] + " F16", 2.0 * 2 * chw[0] * chw[0] * 9L * chw[1] * chw[2],
                    s, peak);
        }
        for (int[] lhd : new int[][] {{4096, 10, 64}, {1024, 20, 64}, {16384, 5, 64}}) {
            int l = lhd[0];
            int hd = lhd[1] * lhd[2];
            Tensor q = be.resident(random(r, 3, l, hd));
            Tensor k = be.resident(random(r, 3, l, hd));
            Tensor v = be.resident(random(r, 3, l, hd));
            double s = time(be, reps, () -> be.attention(q, k, v, lhd[1], 0.125f, null, new boolean[] {false, false, true}));
            report("attention 3x" + l + " tokens x" + lhd[1] + " heads x" + lhd[2] + " (PAG row)",
                    4.0 * 2 * l * (double) l * hd, s, peak);
        }
    }

    private static void report(String what, double flop, double seconds, double peak) {
        double gflops = flop / seconds / 1e9;
        System.out.printf("%-48s %9.3f ms  %8.0f GFLOP/s  %5.1f%% of peak%n", what, seconds * 1e3, gflops,
                100 * gflops / peak);
    }

    private static double time(Backend be, int reps, java.util.function.Supplier<Tensor> op) {
        be.toHost(op.get().narrow(0, 0, 1));
        long t0 = System.nanoTime();
        Tensor last = null;
        for (int i = 0; i < reps; i++) {
            last = op.get();
        }
        be.toHost(last.reshape(-1).narrow(0, 0, 1));
        return (System.nanoTime() - t0) / 1e9 / reps;
    }

    private static Tensor random(Random r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return t;
    }
}
