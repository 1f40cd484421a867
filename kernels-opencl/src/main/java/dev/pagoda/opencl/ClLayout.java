package dev.pagoda.opencl;

/**
 * The iteration space of a strided kernel launch: the output shape with dimensions merged wherever
 * every operand allows it, padded to the 8 entries the kernels take as {@code int8}/{@code long8}.
 * A contiguous operand over the output's shape therefore becomes rank 1; a bias broadcast over
 * rows stays rank 2.
 *
 * @param rank    number of dimensions after merging (at least 1)
 * @param shape   8 sizes, the first {@code rank} used
 * @param strides per operand, 8 strides in elements
 */
record ClLayout(int rank, int[] shape, long[][] strides) {

    static final int MAX_RANK = 8;

    /**
     * Merges the dimensions of {@code shape} for operands with the given strides (each of
     * {@code shape.length} entries).
     *
     * @return the merged layout, or null when more than {@link #MAX_RANK} dimensions remain
     */
    static ClLayout of(int[] shape, long[]... operandStrides) {
        int ops = operandStrides.length;
        int[] outShape = new int[shape.length];
        long[][] outStrides = new long[ops][shape.length];
        int r = 0;
        // From the innermost dimension outwards; size-1 dimensions contribute nothing.
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            if (r > 0 && mergeable(shape[d], outShape[r - 1], d, r - 1, operandStrides, outStrides)) {
                outShape[r - 1] *= shape[d];
                continue;
            }
            outShape[r] = shape[d];
            for (int o = 0; o < ops; o++) {
                outStrides[o][r] = operandStrides[o][d];
            }
            r++;
        }
        if (r > MAX_RANK) {
            return null;
        }
        int rank = Math.max(r, 1);
        int[] s = new int[MAX_RANK];
        long[][] st = new long[ops][MAX_RANK];
        if (r == 0) {
            s[0] = 1;
        }
        // Reverse back to outermost-first order.
        for (int i = 0; i < r; i++) {
            s[i] = outShape[r - 1 - i];
            for (int o = 0; o < ops; o++) {
                st[o][i] = outStrides[o][r - 1 - i];
            }
        }
        return new ClLayout(rank, s, st);
    }

    private static boolean mergeable(int outer, int inner, int d, int group, long[][] operandStrides,
            long[][] groupStrides) {
        if ((long) outer * inner > Integer.MAX_VALUE) {
            return false;
        }
        for (int o = 0; o < operandStrides.length; o++) {
            if (operandStrides[o][d] != groupStrides[o][group] * inner) {
                return false;
            }
        }
        return true;
    }
}
