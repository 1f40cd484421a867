package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input and output transforms of {@link Winograd}, one tile row of one channel at a time, with
 * the vector lanes running along the tiles of the row. Tile {@code tx} reads input columns
 * {@code m·tx − 1 … m·tx + m}, so the row's pixels are first dealt into {@code m} phase lines
 * ({@code phase[r][tx + 1] = x[m·tx + r]}, zero outside the image): every one of the α window
 * columns is then a contiguous run of one phase line, and both passes of {@code Bᵀ d B} (and of
 * {@code Aᵀ M A} on the way out) are plain vector arithmetic with no gathers. The output is dealt
 * back from phase lines into the image rows the same way.
 */
final class WinogradTiles {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Where the tiles and the input pixels lie. */
    record Geometry(float[] x, long offset, long[] strides, int h, int w, int tilesY, int tilesX, int m) {

        int alpha() {
            return m + 2;
        }
    }

    /** One thread's scratch for one call: phase lines, the half-transformed tiles, output phases. */
    static final class Scratch {
        /** Floats per phase line: room for tiles −1 … tilesX and a whole vector past the last chunk. */
        final int lineWidth;
        /** {@code phases[(ry·m + r)·lineWidth + tx + 1]}: input row ry of the window, phase r. */
        final float[] phases;
        /** One chunk of tiles after the first pass: α·α vectors. */
        final float[] half;
        /** {@code outPhases[(oy·m + ox)·lineWidth + tx]}: output pixel (oy, ox) of tile tx. */
        final float[] outPhases;
        /** Offset of window column rx inside a window row's phase lines. */
        final int[] taps;
        /** Offset of row i of {@link #half}: i·α·L, the second input pass walks down it. */
        final int[] halfRowTaps;
        /** Offset of vector i of one {@link #half} row: i·L, the second output pass walks along it. */
        final int[] halfColumnTaps;
        /** Offset of point row i in the caller's point-major array: i·α·pointStride. */
        final int[] pointTaps;
        /** The stride between points of V or M that this scratch serves. */
        final int pointStride;

        /** One thread's; {@code pointStride} is the distance between points of V (input) or of M (output). */
        Scratch(Geometry g, int pointStride) {
            int m = g.m;
            int alpha = g.alpha();
            lineWidth = PackedGemm.ceilDiv(g.tilesX, L) * L + 2;
            phases = new float[alpha * m * lineWidth];
            half = new float[alpha * alpha * L];
            outPhases = new float[m * m * lineWidth];
            taps = new int[alpha];
            for (int rx = 0; rx < alpha; rx++) {
                int phase = Math.floorMod(rx - 1, m);
                int tileShift = Math.floorDiv(rx - 1, m) + 1;
                taps[rx] = phase * lineWidth + tileShift;
            }
            this.pointStride = pointStride;
            halfRowTaps = new int[alpha];
            halfColumnTaps = new int[alpha];
            pointTaps = new int[alpha];
            for (int i = 0; i < alpha; i++) {
                halfRowTaps[i] = i * alpha * L;
                halfColumnTaps[i] = i * L;
                pointTaps[i] = i * alpha * pointStride;
            }
        }
    }

    private WinogradTiles() {
    }

    /**
     * {@code V = Bᵀ d B} of channel {@code ci} for the tiles of global tile row {@code tileRow}
     * (image {@code tileRow / tilesY}), into {@code v[base + ξ·pointStride + tx]}.
     */
    static void input(Geometry g, int ci, int tileRow, float[] v, int base, int pointStride, Scratch s) {
        int m = g.m;
        int alpha = g.alpha();
        int n = tileRow / g.tilesY;
        int ty = tileRow - n * g.tilesY;
        long plane = g.offset + n * g.strides[0] + ci * g.strides[1];
        for (int ry = 0; ry < alpha; ry++) {
            dealRow(g, plane, ty * m - 1 + ry, s.phases, ry * m * s.lineWidth, s.lineWidth);
        }
        int tilesX = g.tilesX;
        int windowRow = m * s.lineWidth;
        checkStride(s, pointStride);
        for (int j0 = 0; j0 < tilesX; j0 += L) {
            VectorMask<Float> mask = j0 + L <= tilesX ? null : S.indexInRange(j0, tilesX);
            // along each window row (x), then down each column of the result (y)
            for (int ry = 0; ry < alpha; ry++) {
                inputLine(m, s.phases, ry * windowRow + j0, s.taps, s.half, ry * alpha * L, L, null);
            }
            for (int a = 0; a < alpha; a++) {
                inputLine(m, s.half, a * L, s.halfRowTaps, v, base + a * pointStride + j0, alpha * pointStride, mask);
            }
        }
    }

    /** Phase lines of input row {@code iy} (zero when it lies outside the image). */
    private static void dealRow(Geometry g, long plane, int iy, float[] phases, int o, int lineWidth) {
        int m = g.m;
        int w = g.w;
        int end = m * (g.tilesX + 1); // pixels m·(tx) + r for tx < tilesX + 1 are read
        if (iy < 0 || iy >= g.h) {
            for (int r = 0; r < m; r++) {
                java.util.Arrays.fill(phases, o + r * lineWidth + 1, o + r * lineWidth + g.tilesX + 2, 0f);
            }
            return;
        }
        float[] x = g.x;
        long row = plane + iy * g.strides[2];
        long sx = g.strides[3];
        int shift = m == 4 ? 2 : 1;
        if (sx == 1) {
            int src = (int) row;
            for (int ix = 0; ix < w; ix++) {
                phases[o + (ix & (m - 1)) * lineWidth + (ix >> shift) + 1] = x[src + ix];
            }
        } else {
            for (int ix = 0; ix < w; ix++) {
                phases[o + (ix & (m - 1)) * lineWidth + (ix >> shift) + 1] = x[(int) (row + ix * sx)];
            }
        }
        for (int ix = w; ix < end; ix++) {
            phases[o + (ix & (m - 1)) * lineWidth + (ix >> shift) + 1] = 0f;
        }
    }

    /**
     * {@code Bᵀ} along one line of α vectors {@code src[s + taps[i]]}, written to
     * {@code dst[d + i·step]} (under {@code mask} where given).
     */
    private static void inputLine(int m, float[] src, int s, int[] taps, float[] dst, int d, int step,
            VectorMask<Float> mask) {
        if (m == 4) {
            FloatVector d0 = FloatVector.fromArray(S, src, s + taps[0]);
            FloatVector d1 = FloatVector.fromArray(S, src, s + taps[1]);
            FloatVector d2 = FloatVector.fromArray(S, src, s + taps[2]);
            FloatVector d3 = FloatVector.fromArray(S, src, s + taps[3]);
            FloatVector d4 = FloatVector.fromArray(S, src, s + taps[4]);
            FloatVector d5 = FloatVector.fromArray(S, src, s + taps[5]);
            FloatVector four = FloatVector.broadcast(S, 4f);
            FloatVector two = FloatVector.broadcast(S, 2f);
            FloatVector minusFive = FloatVector.broadcast(S, -5f);
            FloatVector d42 = d4.sub(d2);
            FloatVector d43 = d3.add(d4);
            FloatVector d12 = d1.add(d2);
            FloatVector e12 = d1.sub(d2);
            FloatVector e31 = d3.sub(d1);
            store(d2.fma(minusFive, d0.fma(four, d4)), dst, d, mask);
            store(d12.fma(four.neg(), d43), dst, d + step, mask);
            store(e12.fma(four, d4.sub(d3)), dst, d + 2 * step, mask);
            store(e31.fma(two, d42), dst, d + 3 * step, mask);
            store(e31.fma(two.neg(), d42), dst, d + 4 * step, mask);
            store(d3.fma(minusFive, d1.fma(four, d5)), dst, d + 5 * step, mask);
        } else {
            FloatVector d0 = FloatVector.fromArray(S, src, s + taps[0]);
            FloatVector d1 = FloatVector.fromArray(S, src, s + taps[1]);
            FloatVector d2 = FloatVector.fromArray(S, src, s + taps[2]);
            FloatVector d3 = FloatVector.fromArray(S, src, s + taps[3]);
            store(d0.sub(d2), dst, d, mask);
            store(d1.add(d2), dst, d + step, mask);
            store(d2.sub(d1), dst, d + 2 * step, mask);
            store(d1.sub(d3), dst, d + 3 * step, mask);
        }
    }

    /**
     * {@code Y = Aᵀ M A + bias} of output channel {@code co} for the tiles of global tile row
     * {@code tileRow}, from {@code mm[base + ξ·pointStride + tx]}, into the NCHW image {@code y}
     * (clipped at its right and bottom edges). {@code mm} must have a vector of slack past its end.
     */
    static void output(Geometry g, int co, int cout, int tileRow, float[] mm, int base, int pointStride, float bias,
            float[] y, Scratch s) {
        int m = g.m;
        int alpha = g.alpha();
        int tilesX = g.tilesX;
        checkStride(s, pointStride);
        for (int j0 = 0; j0 < tilesX; j0 += L) {
            // down each column of points (y), then along each output row (x)
            for (int a = 0; a < alpha; a++) {
                outputLine(m, mm, base + a * pointStride + j0, s.pointTaps, s.half, a * L, alpha * L, 0f, false);
            }
            for (int oy = 0; oy < m; oy++) {
                outputLine(m, s.half, oy * alpha * L, s.halfColumnTaps, s.outPhases, oy * m * s.lineWidth + j0,
                        s.lineWidth, bias, true);
            }
        }
        int n = tileRow / g.tilesY;
        int ty = tileRow - n * g.tilesY;
        int h = g.h;
        int w = g.w;
        int shift = m == 4 ? 2 : 1;
        for (int oy = 0; oy < m && ty * m + oy < h; oy++) {
            int dst = ((n * cout + co) * h + ty * m + oy) * w;
            int o = oy * m * s.lineWidth;
            for (int ix = 0; ix < w; ix++) {
                y[dst + ix] = s.outPhases[o + (ix & (m - 1)) * s.lineWidth + (ix >> shift)];
            }
        }
    }

    /**
     * {@code Aᵀ} along one line of α vectors {@code src[s + taps[i]]}, the m results (plus
     * {@code bias} if asked) written to {@code dst[d + i·step]}.
     */
    private static void outputLine(int m, float[] src, int s, int[] taps, float[] dst, int d, int step, float bias,
            boolean addBias) {
        FloatVector b = FloatVector.broadcast(S, addBias ? bias : 0f);
        if (m == 4) {
            FloatVector m0 = FloatVector.fromArray(S, src, s + taps[0]);
            FloatVector m1 = FloatVector.fromArray(S, src, s + taps[1]);
            FloatVector m2 = FloatVector.fromArray(S, src, s + taps[2]);
            FloatVector m3 = FloatVector.fromArray(S, src, s + taps[3]);
            FloatVector m4 = FloatVector.fromArray(S, src, s + taps[4]);
            FloatVector m5 = FloatVector.fromArray(S, src, s + taps[5]);
            FloatVector two = FloatVector.broadcast(S, 2f);
            FloatVector four = FloatVector.broadcast(S, 4f);
            FloatVector eight = FloatVector.broadcast(S, 8f);
            FloatVector p12 = m1.add(m2);
            FloatVector d12 = m1.sub(m2);
            FloatVector p34 = m3.add(m4);
            FloatVector d34 = m3.sub(m4);
            FloatVector r0 = m0.add(p12).add(p34);
            FloatVector r1 = d34.fma(two, d12);
            FloatVector r2 = p34.fma(four, p12);
            FloatVector r3 = d34.fma(eight, d12.add(m5));
            if (addBias) {
                r0 = r0.add(b);
                r1 = r1.add(b);
                r2 = r2.add(b);
                r3 = r3.add(b);
            }
            r0.intoArray(dst, d);
            r1.intoArray(dst, d + step);
            r2.intoArray(dst, d + 2 * step);
            r3.intoArray(dst, d + 3 * step);
        } else {
            FloatVector m0 = FloatVector.fromArray(S, src, s + taps[0]);
            FloatVector m1 = FloatVector.fromArray(S, src, s + taps[1]);
            FloatVector m2 = FloatVector.fromArray(S, src, s + taps[2]);
            FloatVector m3 = FloatVector.fromArray(S, src, s + taps[3]);
            FloatVector r0 = m0.add(m1).add(m2);
            FloatVector r1 = m1.sub(m2).sub(m3);
            if (addBias) {
                r0 = r0.add(b);
                r1 = r1.add(b);
            }
            r0.intoArray(dst, d);
            r1.intoArray(dst, d + step);
        }
    }

    private static void checkStride(Scratch s, int pointStride) {
        if (s.pointStride != pointStride) {
            throw new IllegalArgumentException(
                    "winograd: scratch built for point stride " + s.pointStride + ", called with " + pointStride);
        }
    }

    private static void store(FloatVector value, float[] dst, int d, VectorMask<Float> mask) {
        if (mask == null) {
            value.intoArray(dst, d);
        } else {
            value.intoArray(dst, d, mask);
        }
    }
}
