package dev.pagoda.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by tensors and kernels. */
public final class Shapes {

    private Shapes() {
    }

    /** {@code [2, 4, 64, 64]} → {@code "[2, 4, 64, 64]"}. */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /**
     * Number of elements.
     *
     * @throws IllegalArgumentException for a negative dimension or a count beyond {@code long}
     */
    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + str(shape) + " overflows a long");
            }
        }
        return n;
    }

    public static long[] contiguousStrides(int[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = s;
            s *= shape[d];
        }
        return st;
    }

    /** Row-major increment of a multi-index; returns false after the last index. */
    public static boolean increment(int[] idx, int[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return true;
            }
            idx[d] = 0;
        }
        return false;
    }

    static int[] inferReshape(int[] from, int[] to) {
        long n = numel(from);
        int[] s = to.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + str(from) + " to " + str(to) + ": two -1 entries");
                }
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape " + str(from) + " to " + str(to) + ": negative size");
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("reshape " + str(from) + " to " + str(to) + ": cannot infer -1");
            }
            s[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException("reshape " + str(from) + " (" + n + " elements) to " + str(to));
        }
        return s;
    }

    /**
     * The numpy broadcast of two shapes.
     *
     * @throws IllegalArgumentException naming {@code op} and both shapes when they do not broadcast
     */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Throws unless the two shapes are equal. */
    public static void requireSame(String op, int[] a, int[] b) {
        if (!Arrays.equals(a, b)) {
            throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " differ");
        }
    }
}
