package dev.pagoda.tensor.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One worker's share of {@link FlashAttention}: a tile of up to {@link #ROWS} queries of one head,
 * streamed against that head's keys {@code keyTile} at a time with an online softmax. Per key tile:
 * scores {@code S = Q·Kᵀ} (queries pre-scaled), the additive mask, the running row maximum m and sum
 * l, probabilities {@code P = exp(S - m)}, and {@code O = O·exp(m_old - m) + P·V}. Only
 * {@code ROWS × keyTile} scores exist at any time.
 *
 * <p>The two products use register tiles of 4 rows × 2 vectors: 8 accumulators + 2 loaded vectors +
 * 4 broadcasts = 14 registers, which fits AVX2's 16 (C2 hoists all broadcasts of a step, so wider
 * tiles spill there); with AVX-512 the same tile runs the FMA units near their peak. Rows beyond the
 * last query are zero-padded to a multiple of 4 and never stored. The instance owns its scratch
 * arrays; nothing is allocated per tile.
 */
final class AttentionTile {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /** Keys per packed K panel: the width of the score micro-kernel (two vectors). */
    static final int PANEL = 2 * L;
    /** Queries per tile (a multiple of 4). */
    static final int ROWS = 64;
    /**
     * Keys per tile for long key sequences (a multiple of {@link #PANEL}). 128 amortises the per-row
     * work of a key tile (max test, rescale, loop set-up) better than 64 (+5% at 10×4096×64) and
     * keeps the 64×128 score tile (32 KB) in L1/L2; 256 gained nothing.
     */
    static final int KEYS = Math.max(128, PANEL);
    /** Key sequences up to this length (cross-attention's 77 text tokens) are a single key tile. */
    static final int SINGLE_TILE_MAX = 128;

    private final int d;
    private final int dvp;
    private final int keyTile;
    /** [ROWS][d] queries of the tile, already multiplied by the scale. */
    private final float[] q;
    /** [ROWS][keyTile] scores, overwritten by probabilities. */
    private final float[] s;
    /** [ROWS][dvp] output before division by the row sums. */
    private final float[] o;
    private final float[] rowMax = new float[ROWS];
    /** [ROWS][L] per-lane partial row sums; reduced once, when the tile is stored. */
    private final float[] rowSum = new float[ROWS * L];
    private final float[] alpha = new float[ROWS];

    /**
     * @param d       head dim of q and k
     * @param dvp     head dim of v rounded up to the vector length (packed V rows are this long)
     * @param keyTile keys per tile, a multiple of {@link #PANEL}
     */
    AttentionTile(int d, int dvp, int keyTile) {
        this.d = d;
        this.dvp = dvp;
        this.keyTile = keyTile;
        this.q = new float[ROWS * Math.max(d, 1)];
        this.s = new float[ROWS * keyTile];
        this.o = new float[ROWS * dvp];
    }

    /** The key tile length for {@code lk} keys: all of them when short, else {@link #KEYS}. */
    static int keyTileFor(int lk) {
        return lk <= SINGLE_TILE_MAX ? Math.max(PANEL, roundUp(lk, PANEL)) : KEYS;
    }

    static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /** Copies {@code rows} query rows (row i at {@code a[base + i·stride ..]}) times {@code scale}. */
    void loadQueries(float[] a, int base, int stride, int rows, float scale) {
        int full = d - d % L;
        VectorMask<Float> tail = S.indexInRange(0, d - full);
        FloatVector sv = FloatVector.broadcast(S, scale);
        for (int i = 0; i < rows; i++) {
            int src = base + i * stride;
            int dst = i * d;
            int c = 0;
            for (; c < full; c += L) {
                FloatVector.fromArray(S, a, src + c).mul(sv).intoArray(q, dst + c);
            }
            if (c < d) {
                FloatVector.fromArray(S, a, src + c, tail).mul(sv).intoArray(q, dst + c, tail);
            }
        }
        Arrays.fill(q, rows * d, roundUp(rows, 4) * d, 0f);
    }

    /**
     * Runs the loaded queries against one head's packed keys and values.
     *
     * @param kp    keys packed in panels: key j, dim c at {@code kOff + (j/PANEL)·PANEL·d + c·PANEL + j%PANEL}
     * @param vp    values packed as rows of {@code dvp}: key j at {@code vOff + j·dvp}
     * @param mask  additive mask array or null; entry (row i, key j) at {@code mOff + i·msQ + j·msK}
     */
    void compute(float[] kp, int kOff, float[] vp, int vOff, int lk, int rows,
            float[] mask, long mOff, long msQ, long msK) {
        int rowsP = roundUp(rows, 4);
        Arrays.fill(o, 0, rowsP * dvp, 0f);
        Arrays.fill(rowMax, Float.NEGATIVE_INFINITY);
        Arrays.fill(rowSum, 0f);
        Arrays.fill(alpha, 1f);
        for (int k0 = 0; k0 < lk; k0 += keyTile) {
            int bc = Math.min(keyTile, lk - k0);
            scores(kp, kOff + k0 * d, bc, rowsP);
            if (mask != null) {
                addMask(mask, mOff + k0 * msK, msQ, msK, rows, bc);
            }
            probabilities(rows, bc);
            accumulate(vp, vOff + k0 * dvp, bc, rowsP);
        }
    }

    /** Writes {@code O / l} for each row; a row that saw no unmasked key (l = 0) gives zeros. */
    void store(float[] out, int base, int stride, int rows, int dv) {
        int full = dv - dv % L;
        for (int i = 0; i < rows; i++) {
            float l = VectorMath.sum(FloatVector.fromArray(S, rowSum, i * L));
            float inv = l == 0f ? 0f : 1f / l;
            FloatVector iv = FloatVector.broadcast(S, inv);
            int src = i * dvp;
            int dst = base + i * stride;
            int c = 0;
            for (; c < full; c += L) {
                FloatVector.fromArray(S, o, src + c).mul(iv).intoArray(out, dst + c);
            }
            for (; c < dv; c++) {
                out[dst + c] = o[src + c] * inv;
            }
        }
    }

    /**
     * S[i][j] = Σ_c q[i][c]·k[j][c] for the tile's {@code bc} keys and padded rows; a last panel with
     * at most L keys (77 = 2·32 + 13 text tokens) computes only its first vector.
     */
    private void scores(float[] kp, int kOff, int bc, int rowsP) {
        for (int col = 0; col < bc; col += PANEL) {
            int kb = kOff + col * d;
            if (bc - col > L) {
                scoresPanel(kp, kb, col, rowsP);
            } else {
                scoresHalfPanel(kp, kb, col, rowsP);
            }
        }
    }

    private void scoresPanel(float[] kp, int kb, int col, int rowsP) {
        for (int i = 0; i < rowsP; i += 4) {
            int q0 = i * d;
            int q1 = q0 + d;
            int q2 = q1 + d;
            int q3 = q2 + d;
            FloatVector s00 = FloatVector.zero(S);
            FloatVector s01 = FloatVector.zero(S);
            FloatVector s10 = FloatVector.zero(S);
            FloatVector s11 = FloatVector.zero(S);
            FloatVector s20 = FloatVector.zero(S);
            FloatVector s21 = FloatVector.zero(S);
            FloatVector s30 = FloatVector.zero(S);
            FloatVector s31 = FloatVector.zero(S);
            for (int c = 0, kk = kb; c < d; c++, kk += PANEL) {
                FloatVector k0 = FloatVector.fromArray(S, kp, kk);
                FloatVector k1 = FloatVector.fromArray(S, kp, kk + L);
                FloatVector b0 = FloatVector.broadcast(S, q[q0 + c]);
                FloatVector b1 = FloatVector.broadcast(S, q[q1 + c]);
                FloatVector b2 = FloatVector.broadcast(S, q[q2 + c]);
                FloatVector b3 = FloatVector.broadcast(S, q[q3 + c]);
                s00 = k0.fma(b0, s00);
                s01 = k1.fma(b0, s01);
                s10 = k0.fma(b1, s10);
                s11 = k1.fma(b1, s11);
                s20 = k0.fma(b2, s20);
                s21 = k1.fma(b2, s21);
                s30 = k0.fma(b3, s30);
                s31 = k1.fma(b3, s31);
            }
            int so = i * keyTile + col;
            s00.intoArray(s, so);
            s01.intoArray(s, so + L);
            so += keyTile;
            s10.intoArray(s, so);
            s11.intoArray(s, so + L);
            so += keyTile;
            s20.intoArray(s, so);
            s21.intoArray(s, so + L);
            so += keyTile;
            s30.intoArray(s, so);
            s31.intoArray(s, so + L);
        }
    }

    private void scoresHalfPanel(float[] kp, int kb, int col, int rowsP) {
        for (int i = 0; i < rowsP; i += 4) {
            int q0 = i * d;
            int q1 = q0 + d;
            int q2 = q1 + d;
            int q3 = q2 + d;
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = FloatVector.zero(S);
            FloatVector s2 = FloatVector.zero(S);
            FloatVector s3 = FloatVector.zero(S);
            for (int c = 0, kk = kb; c < d; c++, kk += PANEL) {
                FloatVector k0 = FloatVector.fromArray(S, kp, kk);
                s0 = k0.fma(FloatVector.broadcast(S, q[q0 + c]), s0);
                s1 = k0.fma(FloatVector.broadcast(S, q[q1 + c]), s1);
                s2 = k0.fma(FloatVector.broadcast(S, q[q2 + c]), s2);
                s3 = k0.fma(FloatVector.broadcast(S, q[q3 + c]), s3);
            }
            int so = i * keyTile + col;
            s0.intoArray(s, so);
            s1.intoArray(s, so + keyTile);
            s2.intoArray(s, so + 2 * keyTile);
            s3.intoArray(s, so + 3 * keyTile);
        }
    }

    private void addMask(float[] mask, long mOff, long msQ, long msK, int rows, int bc) {
        int full = bc - bc % L;
        for (int i = 0; i < rows; i++) {
            int so = i * keyTile;
            long mo = mOff + i * msQ;
            if (msK == 1) {
                int mi = (int) mo;
                int j = 0;
                for (; j < full; j += L) {
                    FloatVector.fromArray(S, s, so + j).add(FloatVector.fromArray(S, mask, mi + j)).intoArray(s, so + j);
                }
                for (; j < bc; j++) {
                    s[so + j] += mask[mi + j];
                }
            } else {
                for (int j = 0; j < bc; j++) {
                    s[so + j] += mask[(int) (mo + j * msK)];
                }
            }
        }
    }

    /**
     * Turns the scores of rows {@code [0, rows)} and keys {@code [0, bc)} into probabilities relative
     * to the running maximum, and records each row's rescale factor {@code alpha}. The maximum only
     * moves when a score exceeds it, so most key tiles need neither a horizontal max nor a rescale;
     * probabilities relative to the running maximum are ≤ 1 either way.
     *
     * <p>Lanes past {@code bc} in the last vector hold scores of zero-padded keys: they are set to
     * -inf first (probability exactly 0), so one loop with one inlined {@code exp} covers every
     * vector; a second exp call site made the method too big for C2 to inline both, and an
     * exp that is not inlined boxes its vectors.
     */
    private void probabilities(int rows, int bc) {
        int end = roundUp(bc, L);
        boolean padded = end != bc;
        VectorMask<Float> pad = S.indexInRange(0, bc - (end - L)).not();
        FloatVector negInf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < rows; i++) {
            int so = i * keyTile;
            if (padded) {
                negInf.intoArray(s, so + end - L, pad);
            }
            // compare+blend max: cheaper than Java's NaN-propagating max, and a NaN score still
            // reaches the output through exp.
            FloatVector mx = negInf;
            for (int j = 0; j < end; j += L) {
                FloatVector v = FloatVector.fromArray(S, s, so + j);
                mx = mx.blend(v, v.compare(VectorOperators.GT, mx));
            }
            float m = rowMax[i];
            FloatVector sum = FloatVector.fromArray(S, rowSum, i * L);
            if (mx.compare(VectorOperators.GT, m).anyTrue()) {
                float mNew = mx.reduceLanes(VectorOperators.MAX);
                float a = VectorMath.exp(m - mNew);
                alpha[i] = a;
                sum = sum.mul(a);
                rowMax[i] = mNew;
                m = mNew;
            } else {
                alpha[i] = 1f;
                if (m == Float.NEGATIVE_INFINITY) {
                    // Every key so far is masked: nothing to add, and exp(-inf - -inf) would be NaN.
                    Arrays.fill(s, so, so + end, 0f);
                    continue;
                }
            }
            FloatVector mv = FloatVector.broadcast(S, m);
            for (int j = 0; j < end; j += L) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(S, s, so + j).sub(mv));
                e.intoArray(s, so + j);
                sum = sum.add(e);
            }
            sum.intoArray(rowSum, i * L);
        }
    }

    /** O[i] = O[i]·alpha[i] + Σ_j P[i][j]·V[j] over the tile's {@code bc} keys. */
    private void accumulate(float[] vp, int vOff, int bc, int rowsP) {
        for (int i = 0; i < rowsP; i += 4) {
            FloatVector a0 = FloatVector.broadcast(S, alpha[i]);
            FloatVector a1 = FloatVector.broadcast(S, alpha[i + 1]);
            FloatVector a2 = FloatVector.broadcast(S, alpha[i + 2]);
            FloatVector a3 = FloatVector.broadcast(S, alpha[i + 3]);
            int p0 = i * keyTile;
            int p1 = p0 + keyTile;
            int p2 = p1 + keyTile;
            int p3 = p2 + keyTile;
            int o0 = i * dvp;
            int o1 = o0 + dvp;
            int o2 = o1 + dvp;
            int o3 = o2 + dvp;
            int c = 0;
            for (; c + 2 * L <= dvp; c += 2 * L) {
                FloatVector x00 = FloatVector.fromArray(S, o, o0 + c).mul(a0);
                FloatVector x01 = FloatVector.fromArray(S, o, o0 + c + L).mul(a0);
                FloatVector x10 = FloatVector.fromArray(S, o, o1 + c).mul(a1);
                FloatVector x11 = FloatVector.fromArray(S, o, o1 + c + L).mul(a1);
                FloatVector x20 = FloatVector.fromArray(S, o, o2 + c).mul(a2);
                FloatVector x21 = FloatVector.fromArray(S, o, o2 + c + L).mul(a2);
                FloatVector x30 = FloatVector.fromArray(S, o, o3 + c).mul(a3);
                FloatVector x31 = FloatVector.fromArray(S, o, o3 + c + L).mul(a3);
                for (int j = 0, vr = vOff + c; j < bc; j++, vr += dvp) {
                    FloatVector v0 = FloatVector.fromArray(S, vp, vr);
                    FloatVector v1 = FloatVector.fromArray(S, vp, vr + L);
                    FloatVector b0 = FloatVector.broadcast(S, s[p0 + j]);
                    FloatVector b1 = FloatVector.broadcast(S, s[p1 + j]);
                    FloatVector b2 = FloatVector.broadcast(S, s[p2 + j]);
                    FloatVector b3 = FloatVector.broadcast(S, s[p3 + j]);
                    x00 = v0.fma(b0, x00);
                    x01 = v1.fma(b0, x01);
                    x10 = v0.fma(b1, x10);
                    x11 = v1.fma(b1, x11);
                    x20 = v0.fma(b2, x20);
                    x21 = v1.fma(b2, x21);
                    x30 = v0.fma(b3, x30);
                    x31 = v1.fma(b3, x31);
                }
                x00.intoArray(o, o0 + c);
                x01.intoArray(o, o0 + c + L);
                x10.intoArray(o, o1 + c);
                x11.intoArray(o, o1 + c + L);
                x20.intoArray(o, o2 + c);
                x21.intoArray(o, o2 + c + L);
                x30.intoArray(o, o3 + c);
                x31.intoArray(o, o3 + c + L);
            }
            if (c < dvp) {
                // dvp is a multiple of L: exactly one vector column remains.
                FloatVector x0 = FloatVector.fromArray(S, o, o0 + c).mul(a0);
                FloatVector x1 = FloatVector.fromArray(S, o, o1 + c).mul(a1);
                FloatVector x2 = FloatVector.fromArray(S, o, o2 + c).mul(a2);
                FloatVector x3 = FloatVector.fromArray(S, o, o3 + c).mul(a3);
                for (int j = 0, vr = vOff + c; j < bc; j++, vr += dvp) {
                    FloatVector v0 = FloatVector.fromArray(S, vp, vr);
                    x0 = v0.fma(FloatVector.broadcast(S, s[p0 + j]), x0);
                    x1 = v0.fma(FloatVector.broadcast(S, s[p1 + j]), x1);
                    x2 = v0.fma(FloatVector.broadcast(S, s[p2 + j]), x2);
                    x3 = v0.fma(FloatVector.broadcast(S, s[p3 + j]), x3);
                }
                x0.intoArray(o, o0 + c);
                x1.intoArray(o, o1 + c);
                x2.intoArray(o, o2 + c);
                x3.intoArray(o, o3 + c);
            }
        }
    }
}
