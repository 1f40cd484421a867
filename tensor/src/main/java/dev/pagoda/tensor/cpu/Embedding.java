package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;

/** Table lookup of token ids, and diffusers' sinusoidal timestep embedding. */
final class Embedding {

    private static final int MIN_PARALLEL = 32768;

    private Embedding() {
    }

    /**
     * Rows of {@code table[V, D]} (F32, F16 or BF16; on the heap or in a mapped file, widened row by
     * row) for integer {@code ids} of any shape; the result is {@code [..., D]} in F32.
     */
    static Tensor lookup(Tensor table, Tensor ids) {
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
        long[] id = ids.toLongArray();
        for (int i = 0; i < id.length; i++) {
            if (id[i] < 0 || id[i] >= v) {
                throw new IllegalArgumentException("embedding: id " + id[i] + " (element " + i + " of ids "
                        + Shapes.str(ids.shape()) + ") is out of range for a table of V = " + v + " rows");
            }
        }
        int[] outShape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        outShape[ids.rank()] = d;
        Tensor out = Tensor.zeros(outShape);
        if (out.numel() == 0) {
            return out;
        }
        float[] dst = out.array();
        long rowStride = table.stride(0);
        long colStride = table.stride(1);
        Parallel.range(id.length, Math.max(1, MIN_PARALLEL / d), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                Copy.copyRun(table.storage(), table.dtype(), table.offset() + id[r] * rowStride, colStride,
                        dst, r * d, d);
            }
        });
        return out;
    }

    /**
     * diffusers' {@code get_timestep_embedding}, with torch's float32 operations in torch's order:
     * {@code exponent = fl(fl(-ln maxPeriod)·i) / fl(half - shift)}, {@code freq = exp(exponent)},
     * {@code arg = fl(scale·fl(t·freq))}, then sin and cos of the float argument. A timestep of 999
     * makes arguments of about 999 radians, where one ulp of the argument moves sin by 6e-5, so the
     * argument must be rounded exactly as torch rounds it. exp, sin and cos are evaluated in double
     * and rounded once (correctly rounded); torch's float32 versions are within about an ulp and
     * depend on its build and vector width, so at t = 999 results can differ from torch by about
     * |t·freq|·2^-24 where torch's exp of a frequency misrounds.
     */
    static Tensor timestep(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift, float scale,
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
        // Python scalars meet a float32 tensor: torch rounds them to float32 first.
        float negLogPeriod = (float) -Math.log(maxPeriod);
        float denom = (float) (half - (double) downscaleFreqShift);
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) {
            float e = negLogPeriod * (float) i;
            e = e / denom;
            freq[i] = (float) Math.exp(e);
        }
        float[] t = timesteps.toFloatArray();
        Tensor out = Tensor.zeros(n, dim);
        float[] dst = out.array();
        int sinAt = flipSinToCos ? half : 0;
        int cosAt = flipSinToCos ? 0 : half;
        for (int r = 0; r < n; r++) {
            int row = r * dim;
            for (int i = 0; i < half; i++) {
                float arg = scale * (t[r] * freq[i]);
                dst[row + sinAt + i] = (float) Math.sin(arg);
                dst[row + cosAt + i] = (float) Math.cos(arg);
            }
        }
        return out;
    }
}
