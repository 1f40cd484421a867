package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import java.util.Arrays;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

import org.jocl.cl_mem;

/** Group norm (+SiLU), layer norm and RMS norm on the work-group reductions of norm.cl. */
final class ClNorms {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClNorms(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        int[] shape = x.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("groupNorm: expected x[N, C, ...], got shape " + Shapes.str(shape));
        }
        int c = shape[1];
        if (groups <= 0 || c % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + groups + " groups do not divide the " + c
                    + " channels of x " + Shapes.str(shape));
        }
        long hw = Shapes.numel(Arrays.copyOfRange(shape, 2, shape.length));
        Tensor out = backend.allocate(DType.F32, shape);
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "groupNorm")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor g = param(ops, "groupNorm", "gamma", gamma, c, 1f);
            Tensor b = param(ops, "groupNorm", "beta", beta, c, 0f);
            launchRows(out, "group_norm", (long) shape[0] * groups, mem(dx), mem(out), c, groups, hw, mem(g),
                    mem(b), eps, silu ? 1 : 0);
        }
        return out;
    }

    Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        if (x.rank() == 0) {
            throw new IllegalArgumentException("layerNorm: expected at least one dimension, got a scalar");
        }
        int d = x.dim(-1);
        Tensor out = backend.allocate(DType.F32, x.shape());
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "layerNorm")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor g = gamma == null ? null : param(ops, "layerNorm", "gamma", gamma, d, 1f);
            Tensor b = beta == null ? null : param(ops, "layerNorm", "beta", beta, d, 0f);
            cl_mem none = mem(dx);
            launchRows(out, "layer_norm", out.numel() / d, mem(dx), mem(out), d, g == null ? none : mem(g),
                    b == null ? none : mem(b), g == null ? 0 : 1, b == null ? 0 : 1, eps);
        }
        return out;
    }

    Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        if (x.rank() == 0) {
            throw new IllegalArgumentException("rmsNorm: expected at least one dimension, got a scalar");
        }
        int d = x.dim(-1);
        Tensor out = backend.allocate(DType.F32, x.shape());
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "rmsNorm")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor g = param(ops, "rmsNorm", "gamma", gamma, d, 1f);
            launchRows(out, "rms_norm", out.numel() / d, mem(dx), mem(out), d, mem(g), eps);
        }
        return out;
    }

    /** A contiguous F32 {@code [n]} parameter on the device; null means a constant {@code fill}. */
    private static Tensor param(ClOperands ops, String op, String name, Tensor p, int n, float fill) {
        if (p == null) {
            float[] v = new float[n];
            Arrays.fill(v, fill);
            return ops.scratch(Tensor.of(v, n));
        }
        if (p.rank() != 1 || p.dim(0) != n) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape [" + n + "], got "
                    + Shapes.str(p.shape()));
        }
        return ops.contiguousF32(p);
    }

    /** One work-group per row (or group slice); the last argument is the reduction scratch. */
    private void launchRows(Tensor out, String kernel, long rows, Object... args) {
        int group = device.maxReductionGroup;
        Object[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = new ClDevice.LocalBytes(8L * group);
        try {
            device.launch(kernel, new long[] {rows * group}, new long[] {group}, all);
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
    }
}
