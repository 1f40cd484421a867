package dev.pagoda.opencl;

import static dev.pagoda.opencl.Closeness.U;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * Plain float64 definitions of the operations, read element by element from host tensors (views
 * included), each with the error bound float32 evaluation is allowed.
 */
final class Float64Reference {

    /** Reference values in row-major order over {@code shape}, with a bound per element. */
    record Result(int[] shape, double[] value, double[] bound) {
    }

    /** Per-element bound of an element-wise operation from its inputs and exact result. */
    interface Bound {
        double of(double x, double y, double exact);
    }

    private Float64Reference() {
    }

    /** Element of {@code t} at output index {@code out} under numpy broadcasting. */
    static double at(Tensor t, int[] out) {
        int lead = out.length - t.rank();
        int[] idx = new int[t.rank()];
        for (int d = 0; d < idx.length; d++) {
            idx[d] = t.dim(d) == 1 ? 0 : out[lead + d];
        }
        return t.getFloat(idx);
    }

    /**
     * {@code a[..., M, K] @ b[..., K, N]}; bound {@code (K + 2)·u·Σ|a·b|}, the worst case of a
     * float32 dot product of length K.
     */
    static Result matmul(Tensor a, Tensor b) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int[] batch = broadcastShape(Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        int[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = m;
        shape[batch.length + 1] = n;
        int total = Math.toIntExact(Shapes.numel(shape));
        double[] value = new double[total];
        double[] bound = new double[total];
        int[] out = new int[shape.length];
        int[] ai = new int[shape.length];
        int[] bi = new int[shape.length];
        for (int i = 0; i < total; i++) {
            System.arraycopy(out, 0, ai, 0, shape.length);
            System.arraycopy(out, 0, bi, 0, shape.length);
            double s = 0;
            double mag = 0;
            for (int kk = 0; kk < k; kk++) {
                ai[shape.length - 1] = kk;
                bi[shape.length - 2] = kk;
                bi[shape.length - 1] = out[shape.length - 1];
                double p = at(a, ai) * at(b, bi);
                s += p;
                mag += Math.abs(p);
            }
            value[i] = s;
            bound[i] = (k + 2) * U * mag;
            Shapes.increment(out, shape);
        }
        return new Result(shape, value, bound);
    }

    /** {@code x[..., K] · weight[N, K]ᵀ + bias}, bias may be null. */
    static Result linear(Tensor x, Tensor weight, Tensor bias) {
        int n = weight.dim(0);
        int k = weight.dim(1);
        int[] shape = x.shape();
        shape[shape.length - 1] = n;
        int total = Math.toIntExact(Shapes.numel(shape));
        double[] value = new double[total];
        double[] bound = new double[total];
        int[] out = new int[shape.length];
        int[] xi = new int[shape.length];
        for (int i = 0; i < total; i++) {
            System.arraycopy(out, 0, xi, 0, shape.length);
            int col = out[shape.length - 1];
            double s = bias == null ? 0 : bias.getFloat(col);
            double mag = Math.abs(s);
            for (int kk = 0; kk < k; kk++) {
                xi[shape.length - 1] = kk;
                double p = x.getFloat(xi) * weight.getFloat(col, kk);
                s += p;
                mag += Math.abs(p);
            }
            value[i] = s;
            bound[i] = (k + 2) * U * mag;
            Shapes.increment(out, shape);
        }
        return new Result(shape, value, bound);
    }

    /** {@code f(a, b)} with numpy broadcasting. */
    static Result binary(Tensor a, Tensor b, DoubleBinaryOperator f, Bound bound) {
        int[] shape = broadcastShape(a.shape(), b.shape());
        int total = Math.toIntExact(Shapes.numel(shape));
        double[] value = new double[total];
        double[] bounds = new double[total];
        int[] out = new int[shape.length];
        for (int i = 0; i < total; i++) {
            double x = at(a, out);
            double y = at(b, out);
            value[i] = f.applyAsDouble(x, y);
            bounds[i] = bound.of(x, y, value[i]);
            Shapes.increment(out, shape);
        }
        return new Result(shape, value, bounds);
    }

    /** {@code f(x)} element-wise. */
    static Result unary(Tensor x, java.util.function.DoubleUnaryOperator f, Bound bound) {
        int[] shape = x.shape();
        int total = Math.toIntExact(Shapes.numel(shape));
        double[] value = new double[total];
        double[] bounds = new double[total];
        int[] idx = new int[shape.length];
        for (int i = 0; i < total; i++) {
            double v = x.getFloat(idx);
            value[i] = f.applyAsDouble(v);
            bounds[i] = bound.of(v, 0, value[i]);
            Shapes.increment(idx, shape);
        }
        return new Result(shape, value, bounds);
    }

    /**
     * Softmax over the last dimension. Bound per element: {@code (L + 8 + |x - max|)·u·p}, from
     * the rounded shift {@code x - max} (amplified by exp), exp's 3 ulp, the length-L sum and the
     * division.
     */
    static Result softmax(Tensor x) {
        int[] shape = x.shape();
        int len = shape[shape.length - 1];
        int total = Math.toIntExact(Shapes.numel(shape));
        double[] value = new double[total];
        double[] bound = new double[total];
        int[] idx = new int[shape.length];
        double[] row = new double[len];
        for (int start = 0; start < total; start += len) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) {
                row[j] = x.getFloat(idx);
                max = Math.max(max, row[j]);
                Shapes.increment(idx, shape);
            }
            double sum = 0;
            for (int j = 0; j < len; j++) {
                sum += Math.exp(row[j] - max);
            }
            for (int j = 0; j < len; j++) {
                double p = Math.exp(row[j] - max) / sum;
                value[start + j] = p;
                // p == 0 for a -inf logit, whose shift is infinite: the bound is then just the floor.
                bound[start + j] = (p == 0 ? 0 : (len + 8 + Math.abs(row[j] - max)) * U * p) + Double.MIN_NORMAL;
            }
        }
        return new Result(shape, value, bound);
    }

    /** The numpy broadcast shape, computed here independently of the code under test. */
    static int[] broadcastShape(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] s = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            s[i] = da == 1 ? db : da;
        }
        return s;
    }
}
