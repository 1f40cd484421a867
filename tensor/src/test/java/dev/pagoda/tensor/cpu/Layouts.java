package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Random;

/**
 * Test inputs: random values, and the same logical tensor in the layouts kernels must accept
 * (contiguous, rows with gaps, transposed inner dimensions, half precision off-heap).
 */
final class Layouts {

    private Layouts() {
    }

    static float[] normal(Random rng, int n, double mean, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (mean + std * rng.nextGaussian());
        }
        return a;
    }

    static float[] uniform(Random rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return a;
    }

    static Tensor contiguous(float[] v, int... shape) {
        return Tensor.of(v.clone(), shape);
    }

    /** A view whose rows sit in a wider buffer (gaps between rows, non-zero offset). */
    static Tensor padded(float[] v, int... shape) {
        int r = shape.length;
        int[] wide = shape.clone();
        wide[r - 1] += 3;
        Tensor base = Tensor.of(new float[Math.toIntExact(Shapes.numel(wide))], wide);
        Tensor view = base.narrow(r - 1, 2, shape[r - 1]);
        fill(view, v);
        return view;
    }

    /** A view whose last dimension is not unit-stride: stored with the last two dims swapped. */
    static Tensor transposed(float[] v, int... shape) {
        int r = shape.length;
        int[] swapped = shape.clone();
        swapped[r - 1] = shape[r - 2];
        swapped[r - 2] = shape[r - 1];
        Tensor view = Tensor.zeros(swapped).transpose(r - 1, r - 2);
        fill(view, v);
        return view;
    }

    /** An off-heap F16 or BF16 (or any dtype) tensor holding {@code v} rounded to that dtype. */
    static Tensor ofDtype(DType dtype, float[] v, int... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        fill(t, v);
        return t;
    }

    /** Writes {@code v} in row-major order into the (possibly strided) view {@code t}. */
    static void fill(Tensor t, float[] v) {
        int[] shape = t.shape();
        int[] idx = new int[shape.length];
        for (int i = 0; i < v.length; i++) {
            t.setFloat(v[i], idx);
            Shapes.increment(idx, shape);
        }
    }

    /** |y - ref| in units of the float32 ulp at ref. */
    static double ulps(float y, double ref) {
        if (Double.isNaN(ref)) {
            return Float.isNaN(y) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(ref)) {
            return y == ref ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(y - ref) / Math.ulp((float) ref);
    }
}
