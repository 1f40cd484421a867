package dev.pagoda.nn.vae;

import dev.pagoda.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * Tiled processing as diffusers' {@code tiled_encode} / {@code tiled_decode}: input tiles of
 * {@code inTile} with 25% overlap, each mapped by {@code f}; every output tile is blended linearly
 * into its upper and left neighbours over a quarter of {@code outTile}, cropped, and stitched.
 */
final class Tiling {

    private static final float OVERLAP = 0.25f;

    private Tiling() {
    }

    static Tensor run(Tensor x, int inTile, int outTile, UnaryOperator<Tensor> f) {
        int h = x.dim(2);
        int w = x.dim(3);
        int stride = (int) (inTile * (1 - OVERLAP));
        int blend = (int) (outTile * OVERLAP);
        int limit = outTile - blend;
        int rows = (h + stride - 1) / stride;
        int cols = (w + stride - 1) / stride;
        Tensor[][] tiles = new Tensor[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int y = r * stride;
                int xx = c * stride;
                Tensor in = x.narrow(2, y, Math.min(inTile, h - y)).narrow(3, xx, Math.min(inTile, w - xx));
                // Tiles are blended on the host (a device backend's tiles come back once each).
                Tensor t = f.apply(in.contiguous());
                tiles[r][c] = t.backend().toHost(t).contiguous();
            }
        }
        int n = tiles[0][0].dim(0);
        int ch = tiles[0][0].dim(1);
        float ratio = (float) outTile / inTile;
        int outH = Math.round(h * ratio);
        int outW = Math.round(w * ratio);
        Tensor out = Tensor.zeros(n, ch, outH, outW);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                Tensor t = tiles[r][c];
                if (r > 0) {
                    blendVertical(tiles[r - 1][c], t, blend);
                }
                if (c > 0) {
                    blendHorizontal(tiles[r][c - 1], t, blend);
                }
            }
        }
        // Crop after all blending: each tile blends with its neighbours' un-cropped borders.
        int y0 = 0;
        for (int r = 0; r < rows; r++) {
            int rowH = 0;
            int x0 = 0;
            for (int c = 0; c < cols; c++) {
                Tensor t = tiles[r][c];
                int th = Math.min(limit, t.dim(2));
                int tw = Math.min(limit, t.dim(3));
                copy(t, out, y0, x0, Math.min(th, outH - y0), Math.min(tw, outW - x0));
                x0 += tw;
                rowH = th;
            }
            y0 += rowH;
        }
        return out;
    }

    /** {@code b}'s top rows fade in from {@code a}'s bottom rows. */
    private static void blendVertical(Tensor a, Tensor b, int extent) {
        int e = Math.min(Math.min(a.dim(2), b.dim(2)), extent);
        int planes = b.dim(0) * b.dim(1);
        int ah = a.dim(2);
        int aw = a.dim(3);
        int bh = b.dim(2);
        int bw = b.dim(3);
        int w = Math.min(aw, bw);
        float[] av = a.array();
        float[] bv = b.array();
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < e; y++) {
                float t = (float) y / e;
                int ar = (p * ah + ah - e + y) * aw;
                int br = (p * bh + y) * bw;
                for (int x = 0; x < w; x++) {
                    bv[br + x] = av[ar + x] * (1 - t) + bv[br + x] * t;
                }
            }
        }
    }

    /** {@code b}'s left columns fade in from {@code a}'s right columns. */
    private static void blendHorizontal(Tensor a, Tensor b, int extent) {
        int e = Math.min(Math.min(a.dim(3), b.dim(3)), extent);
        int planes = b.dim(0) * b.dim(1);
        int ah = a.dim(2);
        int aw = a.dim(3);
        int bh = b.dim(2);
        int bw = b.dim(3);
        int hh = Math.min(ah, bh);
        float[] av = a.array();
        float[] bv = b.array();
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < hh; y++) {
                int ar = (p * ah + y) * aw;
                int br = (p * bh + y) * bw;
                for (int x = 0; x < e; x++) {
                    float t = (float) x / e;
                    bv[br + x] = av[ar + aw - e + x] * (1 - t) + bv[br + x] * t;
                }
            }
        }
    }

    private static void copy(Tensor tile, Tensor out, int y0, int x0, int th, int tw) {
        int planes = out.dim(0) * out.dim(1);
        int h = tile.dim(2);
        int w = tile.dim(3);
        int oh = out.dim(2);
        int ow = out.dim(3);
        float[] tv = tile.array();
        float[] ov = out.array();
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < th; y++) {
                System.arraycopy(tv, (p * h + y) * w, ov, (p * oh + y0 + y) * ow + x0, tw);
            }
        }
    }
}
