package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * conv2d on the implicit-GEMM kernel (conv.cl): any kernel size, stride, zero padding and group
 * count; the filter is read in its stored dtype and widened while it is staged.
 */
final class ClConv {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClConv(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) {
        int[] xs = x.shape();
        int[] ws = weight.shape();
        if (xs.length != 4 || ws.length != 4) {
            throw new IllegalArgumentException("conv2d: expected x[N, Cin, H, W] and weight[Cout, Cin/groups, kh, kw], "
                    + "got " + Shapes.str(xs) + " and " + Shapes.str(ws));
        }
        if (stride < 1 || padding < 0 || groups < 1) {
            throw new IllegalArgumentException("conv2d: stride " + stride + ", padding " + padding + ", groups "
                    + groups + ": expected stride >= 1, padding >= 0, groups >= 1");
        }
        int n = xs[0];
        int cin = xs[1];
        int cout = ws[0];
        if (cin % groups != 0 || cout % groups != 0 || ws[1] * groups != cin) {
            throw new IllegalArgumentException("conv2d: x " + Shapes.str(xs) + " and weight " + Shapes.str(ws)
                    + " do not match " + groups + " group(s)");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != cout)) {
            throw new IllegalArgumentException("conv2d: bias " + Shapes.str(bias.shape()) + " for " + cout
                    + " output channels");
        }
        int kh = ws[2];
        int kw = ws[3];
        int ho = (xs[2] + 2 * padding - kh) / stride + 1;
        int wo = (xs[3] + 2 * padding - kw) / stride + 1;
        if (xs[2] + 2 * padding < kh || xs[3] + 2 * padding < kw) {
            throw new IllegalArgumentException("conv2d: kernel " + kh + "x" + kw + " larger than the padded input "
                    + Shapes.str(xs) + " (padding " + padding + ")");
        }
        Tensor out = backend.allocate(DType.F32, new int[] {n, cout, ho, wo});
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "conv2d")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor dw = ops.raw(weight);
            if (!dw.isContiguous()) {
                dw = ops.contiguousF32(weight);
            }
            Tensor db = bias == null ? null : ops.contiguousF32(bias);
            String kernel = switch (dw.dtype()) {
                case F32 -> "gemm_conv_f32";
                case F16 -> "gemm_conv_f16";
                case BF16 -> "gemm_conv_bf16";
                default -> throw new IllegalStateException("conv2d weight " + dw);
            };
            int tile = device.gemmTile;
            int group = tile / device.gemmBlock;
            long pixels = (long) n * ho * wo;
            int m = cout / groups;
            long[] global = {(pixels + tile - 1) / tile * group, (m + tile - 1L) / tile * group, groups};
            device.launch(kernel, global, new long[] {group, group, 1}, n, cin, xs[2], xs[3], cout, ho, wo, kh, kw,
                    stride, padding, mem(dx), dx.offset(), mem(dw), dw.offset(), db == null ? mem(out) : mem(db),
                    db == null ? 0L : db.offset(), db == null ? 0 : 1, mem(out));
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
        return out;
    }
}
