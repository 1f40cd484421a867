package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import java.util.Arrays;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * Data movement on the device (copy.cl, misc.cl): dtype conversion, concat, nearest upsampling,
 * GEGLU, embedding lookup and the timestep embedding. Concat and upsampling are strided copies:
 * each concat input is written into its slice of the output, and ×2 upsampling reads the input
 * through a view with zero strides on the two duplicated axes.
 */
final class ClData {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClData(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    /** Whether {@link #copyInto} has a kernel from {@code from} to {@code to}. */
    static boolean canCopy(DType from, DType to) {
        if (from.isFloating() && to.isFloating()) {
            return true;
        }
        boolean ints = (from == DType.I32 || from == DType.I64) && (to == DType.I32 || to == DType.I64);
        return ints || (from == DType.BOOL && to == DType.BOOL);
    }

    /** A contiguous copy of device tensor {@code x} in {@code dtype}. */
    Tensor copy(Tensor x, DType dtype) {
        Tensor out = backend.allocate(dtype, x.shape());
        try {
            copyInto(x, out);
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
        return out;
    }

    /**
     * Writes device tensor {@code src} into the device view {@code dst} of the same shape,
     * converting dtypes (narrowing rounds to nearest even).
     *
     * @return false when more than 8 unmergeable dimensions remain (nothing was written)
     */
    boolean copyInto(Tensor src, Tensor dst) {
        ClLayout layout = ClLayout.of(dst.shape(), src.strides(), dst.strides());
        if (layout == null) {
            return false;
        }
        long n = dst.numel();
        String kernel = "copy_" + kernelName(src.dtype()) + "_" + kernelName(dst.dtype());
        if (n > 0) {
            long group = device.linearGroup;
            device.launch(kernel, new long[] {(n + group - 1) / group * group}, new long[] {group}, mem(src),
                    src.offset(), layout.strides()[0], mem(dst), dst.offset(), layout.strides()[1], n,
                    layout.rank(), layout.shape());
        }
        return true;
    }

    private static String kernelName(DType t) {
        return t.name().toLowerCase(java.util.Locale.ROOT);
    }

    Tensor concat(int dim, Tensor[] xs, DType dtype, int[] outShape, int d) {
        Tensor out = backend.allocate(dtype, outShape);
        try (ClOperands ops = new ClOperands(backend, "concat")) {
            int at = 0;
            for (Tensor x : xs) {
                int len = x.dim(d);
                if (len > 0 && !copyInto(ops.any(x), out.narrow(d, at, len))) {
                    throw new IllegalStateException("unreachable: concat slices share the output's rank");
                }
                at += len;
            }
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
        return out;
    }

    Tensor upsampleNearest2x(Tensor x) {
        int[] s = x.shape();
        if (s.length != 4) {
            throw new IllegalArgumentException("upsampleNearest2x: expected x[N, C, H, W], got shape " + Shapes.str(s));
        }
        Tensor out = backend.allocate(DType.F32, new int[] {s[0], s[1], Math.multiplyExact(2, s[2]),
                Math.multiplyExact(2, s[3])});
        try (ClOperands ops = new ClOperands(backend, "upsampleNearest2x")) {
            Tensor dx = ops.raw(x);
            long[] st = dx.strides();
            // out viewed as [N, C, H, 2, W, 2]; the source repeats along the two size-2 axes.
            int[] six = {s[0], s[1], s[2], 2, s[3], 2};
            Tensor src = new Tensor(dx.dtype(), six, new long[] {st[0], st[1], st[2], 0, st[3], 0}, dx.offset(),
                    dx.storage());
            if (!copyInto(src, out.reshape(six))) {
                throw new IllegalStateException("unreachable: six dimensions always fit a launch");
            }
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
        return out;
    }

    Tensor geglu(Tensor x) {
        if (x.rank() == 0 || x.dim(-1) % 2 != 0) {
            throw new IllegalArgumentException("geglu: last dimension must be even (hidden and gate halves), got shape "
                    + Shapes.str(x.shape()));
        }
        int[] outShape = x.shape();
        int f = outShape[outShape.length - 1] / 2;
        outShape[outShape.length - 1] = f;
        try (ClOperands ops = new ClOperands(backend, "geglu")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor out = backend.allocate(DType.F32, outShape);
            long rows = out.numel() / Math.max(f, 1);
            backend.elementwise().launchInto(out, "geglu", out.numel(), mem(dx), mem(out), rows, f);
            return out;
        }
    }

    Tensor embedding(Tensor table, Tensor ids) {
        if (table.rank() != 2) {
            throw new IllegalArgumentException("embedding: table must be [V, D], got shape " + Shapes.str(table.shape()));
        }
        if (!table.dtype().isFloating()) {
            throw new IllegalArgumentException("embedding: table must be a float tensor, got " + table);
        }
        if (ids.dtype() != DType.I32 && ids.dtype() != DType.I64) {
            throw new IllegalArgumentException("embedding: ids must be I32 or I64, got " + ids);
        }
        int v = table.dim(0);
        int d = table.dim(1);
        // Ids are few (77 tokens); they are checked on the host so a bad id is an error, not a read
        // outside the table.
        long[] id = backend.download(ids).toLongArray();
        for (int i = 0; i < id.length; i++) {
            if (id[i] < 0 || id[i] >= v) {
                throw new IllegalArgumentException("embedding: id " + id[i] + " (element " + i + " of ids "
                        + Shapes.str(ids.shape()) + ") is out of range for a table of V = " + v + " rows");
            }
        }
        int[] outShape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        outShape[ids.rank()] = d;
        Tensor out = backend.allocate(DType.F32, outShape);
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "embedding")) {
            Tensor dt = ops.raw(table);
            Tensor dids = ops.scratch(Tensor.ofLongs(id, id.length));
            String kernel = "embedding_" + kernelName(dt.dtype());
            backend.elementwise().launchInto(out, kernel, out.numel(), mem(dt), dt.offset(), dt.stride(0),
                    dt.stride(1), mem(dids), mem(out), (long) id.length, d);
        }
        return out;
    }

    /** See {@link dev.pagoda.tensor.Backend#timestepEmbedding}; frequencies rounded as the CPU backend does. */
    Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift, float scale,
            int maxPeriod) {
        if (timesteps.rank() != 1) {
            throw new IllegalArgumentException("timestepEmbedding: timesteps must be 1-D [N], got shape "
                    + Shapes.str(timesteps.shape()));
        }
        if (dim <= 0) {
            throw new IllegalArgumentException("timestepEmbedding: dim must be positive, got " + dim);
        }
        if (maxPeriod <= 0) {
            throw new IllegalArgumentException("timestepEmbedding: maxPeriod must be positive, got " + maxPeriod);
        }
        int half = dim / 2;
        int n = timesteps.dim(0);
        float negLogPeriod = (float) -Math.log(maxPeriod);
        float denom = (float) (half - (double) downscaleFreqShift);
        float[] freq = new float[Math.max(half, 1)];
        for (int i = 0; i < half; i++) {
            float e = negLogPeriod * (float) i;
            e = e / denom;
            freq[i] = (float) Math.exp(e);
        }
        float[] t = backend.download(timesteps).toFloatArray();
        Tensor out = backend.allocate(DType.F32, new int[] {n, dim});
        if (out.numel() == 0) {
            return out;
        }
        if (half == 0) {
            // dim 1: a single zero column.
            device.write(mem(out), 0, 4L * n, org.jocl.Pointer.to(new float[n]));
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "timestepEmbedding")) {
            Tensor dt = ops.scratch(Tensor.of(t, n));
            Tensor df = ops.scratch(Tensor.of(freq, freq.length));
            int sinAt = flipSinToCos ? half : 0;
            int cosAt = flipSinToCos ? 0 : half;
            long items = (long) n * half;
            backend.elementwise().launchInto(out, "timestep_embedding", items, mem(dt), mem(df), mem(out), n, dim,
                    half, scale, sinAt, cosAt);
        }
        return out;
    }
}
