package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;

/**
 * Multi-head scaled-dot-product attention, flash style: {@code softmax(q·kᵀ·scale + mask)·v} per
 * head, computed by {@link AttentionTile}s of 64 queries against tiles of keys with an online
 * softmax, so memory beyond the inputs and output is a packed copy of k and v plus a few small
 * tiles per thread, never the {@code Lq × Lk} score matrix (671 MB for SDXL's 4096-token layers).
 *
 * <p>Work is split over (batch, head, query tile) on the shared pool. k is packed once per head
 * into panels for the score micro-kernel and v into rows padded to the vector length, so the tiles'
 * inner loops see unit-stride data whatever the input layout; q is read straight from the input
 * (scaled while loaded into the tile). Inputs may be strided views, e.g. narrow()s of a fused qkv
 * projection: any view of a heap F32 tensor whose last dimension has unit stride is read in place,
 * anything else is first copied to contiguous F32.
 *
 * <p>A row flagged in {@code identityRows} (PAG's perturbed branch) gets its {@code v} rows copied
 * bit for bit; its q and k are not packed or multiplied (only a q or k that must first be converted
 * to F32 is converted whole). A query row whose keys are all masked with
 * {@code -inf} gives zeros (torch's fused attention does the same; its unfused softmax gives NaN).
 */
final class FlashAttention {

    private static final int L = VectorMath.S.length();
    /**
     * Packed k+v per head (bytes) up to which tasks run query-tile-major: with few keys
     * (cross-attention's 77) the heads of one query block then share its q rows and output rows in
     * cache; with many keys, head-major keeps one head's k and v hot across its query tiles
     * (measured: 10×4096×64 self-attention 13% slower query-major, 10×4096×77 cross-attention ~10%
     * faster).
     */
    private static final long QUERY_MAJOR_MAX_BYTES = 256 * 1024;

    private FlashAttention() {
    }

    static Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask,
            boolean[] identityRows) {
        validate(q, k, v, heads, mask, identityRows);
        int batch = q.dim(0);
        int lq = q.dim(1);
        int lk = k.dim(1);
        int dv = v.dim(2) / heads;
        Tensor out = Tensor.uninitialized(batch, lq, heads * dv);
        if (out.numel() == 0) {
            return out;
        }
        Rows vr = Rows.of(v);
        int[] attending = copyIdentityRows(vr, identityRows, batch, lq, heads * dv, out.array());
        if (attending.length > 0) {
            Packed packed = Packed.of(Rows.of(k), vr, attending, heads, q.dim(2) / heads, dv, lk);
            MaskView mv = mask == null ? null : MaskView.of(mask, batch, heads, lq, lk);
            run(Rows.of(q), packed, mv, scale, lq, out.array());
            packed.release();
        }
        return out;
    }

    /** Copies v into the output for flagged batch rows; returns the batch rows that attend. */
    private static int[] copyIdentityRows(Rows vr, boolean[] identityRows, int batch, int lq, int hdv, float[] dst) {
        int[] attending = new int[batch];
        int na = 0;
        for (int b = 0; b < batch; b++) {
            if (identityRows != null && identityRows[b]) {
                for (int i = 0; i < lq; i++) {
                    System.arraycopy(vr.a, vr.row(b, i), dst, (b * lq + i) * hdv, hdv);
                }
            } else {
                attending[na++] = b;
            }
        }
        return Arrays.copyOf(attending, na);
    }

    /** Every (attending batch row, head, query tile) as one task on the pool. */
    private static void run(Rows qr, Packed p, MaskView mv, float scale, int lq, float[] dst) {
        int heads = p.heads;
        int d = p.d;
        int dv = p.dv;
        int hdv = heads * dv;
        int lk = p.lk;
        int rowsPerTile = AttentionTile.ROWS;
        int tiles = (lq + rowsPerTile - 1) / rowsPerTile;
        int tasks = Math.multiplyExact(p.batches.length * heads, tiles);
        int keyTile = AttentionTile.keyTileFor(lk);
        int qRowStride = (int) qr.si;
        boolean queryMajor = 4L * (p.kHead + p.vHead) <= QUERY_MAJOR_MAX_BYTES;
        int grain = Math.max(1, tasks / (Parallel.threads() * 16));
        float[] kp = p.k.array();
        float[] vp = p.v.array();
        Parallel.range(tasks, grain, (start, end) -> {
            AttentionTile tile = new AttentionTile(d, p.dvp, keyTile);
            for (int t = start; t < end; t++) {
                int g;
                int qt;
                if (queryMajor) {
                    int bi = t / (tiles * heads);
                    int rem = t % (tiles * heads);
                    qt = rem / heads;
                    g = bi * heads + rem % heads;
                } else {
                    g = t / tiles;
                    qt = t % tiles;
                }
                int q0 = qt * rowsPerTile;
                int rows = Math.min(rowsPerTile, lq - q0);
                int b = p.batches[g / heads];
                int h = g % heads;
                tile.loadQueries(qr.a, qr.row(b, q0) + h * d, qRowStride, rows, scale);
                if (mv == null) {
                    tile.compute(kp, g * p.kHead, vp, g * p.vHead, lk, rows, null, 0, 0, 0);
                } else {
                    long mRow = mv.off + b * mv.sb + h * mv.sh + q0 * mv.sq;
                    tile.compute(kp, g * p.kHead, vp, g * p.vHead, lk, rows, mv.a, mRow, mv.sq, mv.sk);
                }
                tile.store(dst, (b * lq + q0) * hdv + h * dv, hdv, rows, dv);
            }
        });
    }

    /**
     * k and v of the attending batch rows, one block per (batch row, head) g: keys in the score
     * kernel's panels from {@code g·kHead}, values as rows of {@code dvp} from {@code g·vHead}.
     */
    private record Packed(int[] batches, int heads, int d, int dv, int dvp, int lk, Tensor k, int kHead,
            Tensor v, int vHead) {

        /**
         * The packed copies are per-call scratch of the same length at every call of a layer, so they
         * come from the activation pool and go back after the call; every element is written here
         * (the padding explicitly), because a pooled array holds an earlier call's values.
         */
        static Packed of(Rows kr, Rows vr, int[] batches, int heads, int d, int dv, int lk) {
            int dvp = AttentionTile.roundUp(dv, L);
            int kHead = size("k", (long) AttentionTile.roundUp(lk, AttentionTile.PANEL) * d, 1);
            int vHead = size("v", (long) lk * dvp, 1);
            int nh = batches.length * heads;
            Tensor k = Tensor.uninitialized(size("k", kHead, nh));
            Tensor v = Tensor.uninitialized(size("v", vHead, nh));
            float[] kp = k.array();
            float[] vp = v.array();
            Parallel.range(nh, 1, (start, end) -> {
                for (int g = start; g < end; g++) {
                    int b = batches[g / heads];
                    int h = g % heads;
                    packKeys(kr, b, h * d, d, lk, kp, g * kHead);
                    packValues(vr, b, h * dv, dv, dvp, lk, vp, g * vHead);
                }
            });
            return new Packed(batches, heads, d, dv, dvp, lk, k, kHead, v, vHead);
        }

        void release() {
            k.release();
            v.release();
        }
    }

    /**
     * Key j of head dims [c0, c0+d) into panel j/PANEL, column j%PANEL. The score kernel reads whole
     * panels; the padding keys' scores are replaced by -inf, so their values never matter, but they
     * are set to zero so that a pooled array's stale contents (NaN, subnormals) never enter the FMAs.
     */
    private static void packKeys(Rows kr, int b, int c0, int d, int lk, float[] kp, int base) {
        int panel = AttentionTile.PANEL;
        for (int j = 0; j < lk; j++) {
            int src = kr.row(b, j) + c0;
            int dst = base + (j / panel) * panel * d + j % panel;
            for (int c = 0; c < d; c++) {
                kp[dst + c * panel] = kr.a[src + c];
            }
        }
        int tail = lk % panel;
        if (tail != 0) {
            int last = base + (lk / panel) * panel * d;
            for (int c = 0; c < d; c++) {
                Arrays.fill(kp, last + c * panel + tail, last + (c + 1) * panel, 0f);
            }
        }
    }

    /** Value j's head dims as a row of dvp; the columns past dv are never stored, but zeroed as above. */
    private static void packValues(Rows vr, int b, int c0, int dv, int dvp, int lk, float[] vp, int base) {
        for (int j = 0; j < lk; j++) {
            int dst = base + j * dvp;
            System.arraycopy(vr.a, vr.row(b, j) + c0, vp, dst, dv);
            if (dvp != dv) {
                Arrays.fill(vp, dst + dv, dst + dvp, 0f);
            }
        }
    }

    private static int size(String what, long perHead, long heads) {
        long n = perHead * heads;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("attention: packed " + what + " of " + heads + " heads x "
                    + perHead + " floats exceeds the 2^31 element limit of a heap array");
        }
        return (int) n;
    }

    private static void validate(Tensor q, Tensor k, Tensor v, int heads, Tensor mask, boolean[] identityRows) {
        if (q == null || k == null || v == null) {
            throw new IllegalArgumentException("attention: q, k and v must not be null");
        }
        String shapes = "q " + Shapes.str(q.shape()) + ", k " + Shapes.str(k.shape()) + ", v "
                + Shapes.str(v.shape());
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3) {
            throw new IllegalArgumentException("attention: q, k and v must be [batch, tokens, heads*dim], got "
                    + shapes);
        }
        if (!q.dtype().isFloating() || !k.dtype().isFloating() || !v.dtype().isFloating()) {
            throw new IllegalArgumentException("attention: q, k and v must be floating tensors, got "
                    + q.dtype() + ", " + k.dtype() + ", " + v.dtype());
        }
        if (heads < 1) {
            throw new IllegalArgumentException("attention: heads must be >= 1, got " + heads + " for " + shapes);
        }
        if (q.dim(0) != k.dim(0) || q.dim(0) != v.dim(0)) {
            throw new IllegalArgumentException("attention: batch sizes differ: " + shapes);
        }
        if (k.dim(1) != v.dim(1)) {
            throw new IllegalArgumentException("attention: k and v must have the same number of tokens: " + shapes);
        }
        if (q.dim(2) != k.dim(2)) {
            throw new IllegalArgumentException("attention: q and k hidden sizes differ: " + shapes);
        }
        if (q.dim(2) % heads != 0 || v.dim(2) % heads != 0) {
            throw new IllegalArgumentException("attention: hidden sizes of " + shapes + " are not divisible by "
                    + heads + " heads");
        }
        int[] full = {q.dim(0), heads, q.dim(1), k.dim(1)};
        if (mask != null) {
            int[] ms = mask.shape();
            boolean ok = mask.dtype().isFloating() && ms.length <= 4;
            for (int i = 0; ok && i < ms.length; i++) {
                int t = full[4 - ms.length + i];
                ok = ms[i] == t || ms[i] == 1;
            }
            if (!ok) {
                throw new IllegalArgumentException("attention: mask " + mask + " is not an additive float mask "
                        + "broadcastable to [batch, heads, Lq, Lk] = " + Shapes.str(full) + " for " + shapes);
            }
        }
        if (identityRows != null) {
            if (identityRows.length != q.dim(0)) {
                throw new IllegalArgumentException("attention: identityRows has " + identityRows.length
                        + " entries for batch " + q.dim(0) + " (" + shapes + ")");
            }
            boolean any = false;
            for (boolean f : identityRows) {
                any |= f;
            }
            if (any && q.dim(1) != k.dim(1)) {
                throw new IllegalArgumentException("attention: identity rows need as many queries as keys, got "
                        + shapes);
            }
        }
    }

    /**
     * A rank-3 F32 view in a heap array whose last dimension has unit stride: element (b, i, c) at
     * {@code a[off + b·sb + i·si + c]}.
     */
    private record Rows(float[] a, long off, long sb, long si) {

        static Rows of(Tensor t) {
            Tensor x = t;
            boolean direct = x.dtype() == DType.F32 && x.storage() instanceof FloatArrayStorage
                    && (x.stride(2) == 1 || x.dim(2) <= 1);
            if (!direct) {
                x = Copy.copy(x, DType.F32);
            }
            return new Rows(((FloatArrayStorage) x.storage()).data(), x.offset(), x.stride(0), x.stride(1));
        }

        int row(int b, int i) {
            return (int) (off + b * sb + i * si);
        }
    }

    /** An additive mask broadcast to [B, H, Lq, Lk] through strides (0 on broadcast dimensions). */
    private record MaskView(float[] a, long off, long sb, long sh, long sq, long sk) {

        static MaskView of(Tensor mask, int batch, int heads, int lq, int lk) {
            Tensor m = mask;
            if (m.dtype() != DType.F32 || !(m.storage() instanceof FloatArrayStorage)) {
                m = Copy.copy(m, DType.F32);
            }
            Tensor e = m.expand(batch, heads, lq, lk);
            return new MaskView(((FloatArrayStorage) e.storage()).data(), e.offset(), e.stride(0), e.stride(1),
                    e.stride(2), e.stride(3));
        }
    }
}
