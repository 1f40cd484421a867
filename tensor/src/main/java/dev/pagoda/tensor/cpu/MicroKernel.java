package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The register-tiled inner product of the packed GEMM: one {@code mr × nr} tile of C from an
 * {@code mr}-row panel of A and an {@code nr}-column panel of B, both packed k-major
 * ({@code a[k·mr + i]}, {@code b[k·nr + j]}).
 *
 * <p>Each implementation keeps its accumulators in named locals sized to the register file of the
 * vector width it targets: C2 spills anything more to the stack and the kernel then loses half its
 * speed (BUILD-NOTES: 5×16 and 6×16 on 16 ymm registers ran at 27–39 GFLOP/s). The tile stores are
 * written out in the method itself: a helper taking the accumulators as arguments was not inlined,
 * so every vector was boxed, and the 8×32 kernel fell from 115 to 25 GFLOP/s.
 */
sealed interface MicroKernel permits MicroKernel8x32, MicroKernel4x16 {

    /** Rows of the C tile (and of an A panel). */
    int mr();

    /** Columns of the C tile (and of a B panel). */
    int nr();

    /**
     * {@code c[co + i·ldc + j] = Σₖ a[ao + k·mr + i]·b[bo + k·nr + j]} for the whole tile, plus the
     * previous value of {@code c} when {@code accumulate}.
     */
    void multiply(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, int ldc, boolean accumulate);

    /**
     * The kernel for this machine: 8×32 where vectors hold 16 floats (AVX-512 gives 32 registers:
     * 16 accumulators, 2 B vectors and the row broadcasts fit), else 4×16 on 8-float vectors (16
     * registers: 8 accumulators, 2 B vectors, 4 broadcasts).
     */
    static MicroKernel preferred() {
        return FloatVector.SPECIES_PREFERRED.length() >= 16 ? MicroKernel8x32.INSTANCE : MicroKernel4x16.INSTANCE;
    }
}
