package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 4×16 tile on 8-float vectors (AVX2): eight accumulators, two B vectors and the four broadcasts
 * that C2 hoists ahead of the FMAs fill 14 of the 16 ymm registers. A fifth row spills.
 */
final class MicroKernel4x16 implements MicroKernel {

    static final MicroKernel4x16 INSTANCE = new MicroKernel4x16();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

    private MicroKernel4x16() {
    }

    @Override
    public int mr() {
        return 4;
    }

    @Override
    public int nr() {
        return 16;
    }

    @Override
    public void multiply(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, int ldc,
            boolean accumulate) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int k = 0; k < kc; k++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + 8);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ao + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ao + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ao + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            ao += 4;
            bo += 16;
        }
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(S, c, co));
            c01 = c01.add(FloatVector.fromArray(S, c, co + 8));
            c10 = c10.add(FloatVector.fromArray(S, c, co + ldc));
            c11 = c11.add(FloatVector.fromArray(S, c, co + ldc + 8));
            c20 = c20.add(FloatVector.fromArray(S, c, co + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(S, c, co + 2 * ldc + 8));
            c30 = c30.add(FloatVector.fromArray(S, c, co + 3 * ldc));
            c31 = c31.add(FloatVector.fromArray(S, c, co + 3 * ldc + 8));
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + 8);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + 8);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + 8);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + 8);
    }
}
