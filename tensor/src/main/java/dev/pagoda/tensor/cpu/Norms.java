package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.ForkJoinTask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Group norm (optionally fused with SiLU), layer norm and T5's RMS norm. Each normalises contiguous
 * runs of the input: a group of {@code C/G} channels × spatial, or one row of the last dimension.
 *
 * <p>Statistics: the run is read once, in blocks that fit in L1. Each block gets its mean and sum of
 * squared deviations by a corrected two-pass in float32 lanes (the second pass re-reads the block
 * from L1), and blocks are combined in float64 with Chan's pairwise update. The result is accurate
 * to float64 rounding of float32 partial sums, whatever the run length or the offset of the data
 * from 0, and the input is read from memory only twice in all (statistics, then normalisation).
 * Variance is biased and eps goes inside the square root, as in torch.
 *
 * <p>Group norm on several threads takes every group's statistics while the output is being
 * allocated ({@link DenseLaunch#sameShapeWhile}): the JVM's zero-fill of a fresh activation is a
 * serial pass as long as the statistics pass. Normalisation then runs in blocks of channel runs on
 * all threads. Per element the arithmetic is the same as on one thread, so the bits are too.
 *
 * <p>Normalisation subtracts the mean as a float pair (high part, then the remainder), so that data
 * far from 0 keeps the relative accuracy of {@code x - mean}; torch folds the mean into one bias
 * and loses it there.
 */
final class Norms {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();

    /** Statistics block: 4 KiB, a tenth of L1. */
    private static final int STAT_BLOCK = 1024;
    /** Least elements worth a second thread. */
    private static final int MIN_PARALLEL = 32768;
    /** Elements of one channel run normalised per work unit, so a long run is split across threads. */
    private static final int NORM_BLOCK = 16384;

    private Norms() {
    }

    // ---------------------------------------------------------------- group norm

    static Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        int[] shape = x.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("groupNorm: expected x[N, C, ...], got shape " + Shapes.str(shape));
        }
        requireFloat("groupNorm", x);
        int c = shape[1];
        if (groups <= 0 || c % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + groups + " groups do not divide the " + c
                    + " channels of shape " + Shapes.str(shape));
        }
        float[] g = params("groupNorm", "gamma", gamma, c, 1f);
        float[] b = params("groupNorm", "beta", beta, c, 0f);
        int n = shape[0];
        long numel = x.numel();
        if (numel == 0) {
            return DenseLaunch.sameShape(x).out;
        }
        int spatial = (int) (numel / ((long) n * c));
        int perGroup = c / groups;
        int len = perGroup * spatial;
        if (Parallel.threads() == 1 || ForkJoinTask.inForkJoinPool() || numel < 2L * MIN_PARALLEL) {
            return groupNormFused(x, groups, g, b, eps, silu, spatial, perGroup, len);
        }

        // Several threads: statistics of every group while the output is allocated, then the
        // normalisation split into chunks of channel runs. The groups are normalised last-first, so
        // the ones whose statistics were read last are still in cache.
        int ng = n * groups;
        float[] meanHi = new float[ng];
        float[] meanLo = new float[ng];
        float[] rstd = new float[ng];
        DenseLaunch k = DenseLaunch.sameShapeWhile(x, ng, (src, so, g0, g1) -> {
            double[] stats = new double[2];
            for (int j = g0; j < g1; j++) {
                moments(src, so + j * len, len, stats);
                double mean = stats[0];
                rstd[j] = (float) (1.0 / Math.sqrt(stats[1] + eps));
                meanHi[j] = (float) mean;
                meanLo[j] = (float) (mean - meanHi[j]);
            }
        });
        float[] dst = k.dst;
        float[] src = k.src;
        int so = k.srcOffset;
        int blocksPerRun = (spatial + NORM_BLOCK - 1) / NORM_BLOCK;
        int runs = n * c;
        int units = runs * blocksPerRun;
        k.range(units, Math.max(1, MIN_PARALLEL / Math.min(spatial, NORM_BLOCK)), (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int unit = units - 1 - u;
                int run = unit / blocksPerRun;
                int start = (unit - run * blocksPerRun) * NORM_BLOCK;
                int j = run / perGroup;
                int ch = run % c;
                int p = run * spatial + start;
                normalizeRun(src, so + p, dst, p, Math.min(NORM_BLOCK, spatial - start), meanHi[j], meanLo[j],
                        rstd[j] * g[ch], b[ch], silu);
            }
        });
        return k.out;
    }

    /** One thread or a small tensor: statistics and normalisation per group, the group still in cache. */
    private static Tensor groupNormFused(Tensor x, int groups, float[] g, float[] b, float eps, boolean silu,
            int spatial, int perGroup, int len) {
        DenseLaunch k = DenseLaunch.sameShape(x);
        float[] dst = k.dst;
        float[] src = k.src;
        int so = k.srcOffset;
        int ng = dst.length / len;
        k.range(ng, Math.max(1, MIN_PARALLEL / len), (g0, g1) -> {
            double[] stats = new double[2];
            for (int j = g0; j < g1; j++) {
                int base = j * len;
                moments(src, so + base, len, stats);
                double mean = stats[0];
                float rstd = (float) (1.0 / Math.sqrt(stats[1] + eps));
                float meanHi = (float) mean;
                float meanLo = (float) (mean - meanHi);
                int c0 = (j % groups) * perGroup;
                for (int ch = 0; ch < perGroup; ch++) {
                    float scale = rstd * g[c0 + ch];
                    int p = base + ch * spatial;
                    normalizeRun(src, so + p, dst, p, spatial, meanHi, meanLo, scale, b[c0 + ch], silu);
                }
            }
        });
        return k.out;
    }

    /** {@code y = ((x - meanHi) - meanLo)·scale + shift}, then optionally {@code y·σ(y)}. */
    private static void normalizeRun(float[] src, int s, float[] dst, int d, int len, float meanHi, float meanLo,
            float scale, float shift, boolean silu) {
        FloatVector vs = FloatVector.broadcast(S, scale);
        FloatVector vb = FloatVector.broadcast(S, shift);
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += L) {
            FloatVector y = FloatVector.fromArray(S, src, s + i).sub(meanHi).sub(meanLo).fma(vs, vb);
            (silu ? Activations.silu(y) : y).intoArray(dst, d + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector y = FloatVector.fromArray(S, src, s + i, m).sub(meanHi).sub(meanLo).fma(vs, vb);
            (silu ? Activations.silu(y) : y).intoArray(dst, d + i, m);
        }
    }

    // ---------------------------------------------------------------- layer norm, RMS norm

    static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        requireFloat("layerNorm", x);
        if (x.rank() == 0) {
            throw new IllegalArgumentException("layerNorm: expected at least one dimension, got a scalar");
        }
        int dim = x.dim(-1);
        float[] g = params("layerNorm", "gamma", gamma, dim, 1f);
        float[] b = params("layerNorm", "beta", beta, dim, 0f);
        return rowwise(x, (src, s, dst, d, stats) -> {
            moments(src, s, dim, stats);
            double mean = stats[0];
            float rstd = (float) (1.0 / Math.sqrt(stats[1] + eps));
            float meanHi = (float) mean;
            float meanLo = (float) (mean - meanHi);
            int i = 0;
            for (int upper = S.loopBound(dim); i < upper; i += L) {
                FloatVector t = FloatVector.fromArray(S, src, s + i).sub(meanHi).sub(meanLo).mul(rstd);
                t.fma(FloatVector.fromArray(S, g, i), FloatVector.fromArray(S, b, i)).intoArray(dst, d + i);
            }
            if (i < dim) {
                VectorMask<Float> m = S.indexInRange(i, dim);
                FloatVector t = FloatVector.fromArray(S, src, s + i, m).sub(meanHi).sub(meanLo).mul(rstd);
                t.fma(FloatVector.fromArray(S, g, i, m), FloatVector.fromArray(S, b, i, m)).intoArray(dst, d + i, m);
            }
        });
    }

    /** T5LayerNorm: {@code gamma · x / sqrt(mean(x²) + eps)}, no mean subtraction, no bias. */
    static Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        requireFloat("rmsNorm", x);
        if (x.rank() == 0) {
            throw new IllegalArgumentException("rmsNorm: expected at least one dimension, got a scalar");
        }
        int dim = x.dim(-1);
        float[] g = params("rmsNorm", "gamma", gamma, dim, 1f);
        return rowwise(x, (src, s, dst, d, stats) -> {
            float r = (float) (1.0 / Math.sqrt((float) (sumOfSquares(src, s, dim) / dim) + eps));
            int i = 0;
            for (int upper = S.loopBound(dim); i < upper; i += L) {
                FloatVector.fromArray(S, src, s + i).mul(r).mul(FloatVector.fromArray(S, g, i)).intoArray(dst, d + i);
            }
            if (i < dim) {
                VectorMask<Float> m = S.indexInRange(i, dim);
                FloatVector.fromArray(S, src, s + i, m).mul(r).mul(FloatVector.fromArray(S, g, i, m))
                        .intoArray(dst, d + i, m);
            }
        });
    }

    @FunctionalInterface
    private interface RowKernel {
        void row(float[] src, int s, float[] dst, int d, double[] stats);
    }

    /** Runs {@code kernel} over each row of the last dimension, rows spread over the pool. */
    private static Tensor rowwise(Tensor x, RowKernel kernel) {
        DenseLaunch k = DenseLaunch.sameShape(x);
        int dim = x.dim(-1);
        if (k.isEmpty()) {
            return k.out;
        }
        float[] src = k.src;
        int so = k.srcOffset;
        float[] dst = k.dst;
        int rows = dst.length / dim;
        k.range(rows, Math.max(1, MIN_PARALLEL / dim), (r0, r1) -> {
            double[] stats = new double[2];
            for (int r = r0; r < r1; r++) {
                kernel.row(src, so + r * dim, dst, r * dim, stats);
            }
        });
        return k.out;
    }

    // ---------------------------------------------------------------- statistics

    /**
     * Mean and biased variance of {@code a[off, off+len)} into {@code out[0]} and {@code out[1]}.
     * Per block: a float mean estimate m, then {@code s1 = Σ(x-m)} and {@code s2 = Σ(x-m)²}, giving
     * the exact block mean {@code m + s1/n} and {@code M2 = s2 - s1²/n} (the corrected two-pass);
     * blocks are merged with Chan's update in double.
     */
    static void moments(float[] a, int off, int len, double[] out) {
        double mean = 0;
        double m2 = 0;
        long count = 0;
        for (int start = 0; start < len; start += STAT_BLOCK) {
            int n = Math.min(STAT_BLOCK, len - start);
            int p = off + start;
            float m = (float) (sum(a, p, n) / n);
            FloatVector s1a = FloatVector.zero(S);
            FloatVector s1b = FloatVector.zero(S);
            FloatVector s2a = FloatVector.zero(S);
            FloatVector s2b = FloatVector.zero(S);
            int i = 0;
            for (int upper = n - 2 * L; i <= upper; i += 2 * L) {
                FloatVector da = FloatVector.fromArray(S, a, p + i).sub(m);
                FloatVector db = FloatVector.fromArray(S, a, p + i + L).sub(m);
                s1a = s1a.add(da);
                s1b = s1b.add(db);
                s2a = da.fma(da, s2a);
                s2b = db.fma(db, s2b);
            }
            for (; i < S.loopBound(n); i += L) {
                FloatVector da = FloatVector.fromArray(S, a, p + i).sub(m);
                s1a = s1a.add(da);
                s2a = da.fma(da, s2a);
            }
            if (i < n) {
                VectorMask<Float> mk = S.indexInRange(i, n);
                // lanes outside the mask load as 0 and must stay 0, not become -m
                FloatVector da = FloatVector.fromArray(S, a, p + i, mk).sub(m, mk);
                s1a = s1a.add(da);
                s2a = da.fma(da, s2a);
            }
            double s1 = (double) VectorMath.sum(s1a) + VectorMath.sum(s1b);
            double s2 = (double) VectorMath.sum(s2a) + VectorMath.sum(s2b);
            double bMean = m + s1 / n;
            double bM2 = Math.max(0, s2 - s1 * s1 / n);
            long total = count + n;
            double delta = bMean - mean;
            mean += delta * n / total;
            m2 += bM2 + delta * delta * ((double) count * n / total);
            count = total;
        }
        out[0] = mean;
        out[1] = m2 / len;
    }

    /** Σ a[off, off+n) with float lanes, for n up to a statistics block. */
    private static double sum(float[] a, int off, int n) {
        FloatVector sa = FloatVector.zero(S);
        FloatVector sb = FloatVector.zero(S);
        int i = 0;
        for (int upper = n - 2 * L; i <= upper; i += 2 * L) {
            sa = sa.add(FloatVector.fromArray(S, a, off + i));
            sb = sb.add(FloatVector.fromArray(S, a, off + i + L));
        }
        for (; i < S.loopBound(n); i += L) {
            sa = sa.add(FloatVector.fromArray(S, a, off + i));
        }
        if (i < n) {
            sa = sa.add(FloatVector.fromArray(S, a, off + i, S.indexInRange(i, n)));
        }
        return (double) VectorMath.sum(sa) + VectorMath.sum(sb);
    }

    /** Σ a² over a row: float lanes per block, blocks summed in double. */
    private static double sumOfSquares(float[] a, int off, int len) {
        double total = 0;
        for (int start = 0; start < len; start += STAT_BLOCK) {
            int n = Math.min(STAT_BLOCK, len - start);
            int p = off + start;
            FloatVector sa = FloatVector.zero(S);
            FloatVector sb = FloatVector.zero(S);
            int i = 0;
            for (int upper = n - 2 * L; i <= upper; i += 2 * L) {
                FloatVector va = FloatVector.fromArray(S, a, p + i);
                FloatVector vb = FloatVector.fromArray(S, a, p + i + L);
                sa = va.fma(va, sa);
                sb = vb.fma(vb, sb);
            }
            for (; i < S.loopBound(n); i += L) {
                FloatVector va = FloatVector.fromArray(S, a, p + i);
                sa = va.fma(va, sa);
            }
            if (i < n) {
                FloatVector va = FloatVector.fromArray(S, a, p + i, S.indexInRange(i, n));
                sa = va.fma(va, sa);
            }
            total += (double) VectorMath.sum(sa) + VectorMath.sum(sb);
        }
        return total;
    }

    // ---------------------------------------------------------------- parameters

    /** A per-channel parameter widened to float (null: filled with {@code fill}), checked to be [n]. */
    private static float[] params(String op, String name, Tensor p, int n, float fill) {
        if (p == null) {
            float[] a = new float[n];
            Arrays.fill(a, fill);
            return a;
        }
        if (p.rank() != 1 || p.dim(0) != n) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape [" + n + "], got "
                    + Shapes.str(p.shape()));
        }
        requireFloat(op, p);
        return p.toFloatArray();
    }

    private static void requireFloat(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating-point tensor, got " + x);
        }
    }
}
