package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.random.TorchGenerator;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * torchsde 0.2's {@code BrownianInterval} as diffusers' {@code BrownianTreeNoiseSampler} configures it
 * ({@code tol=1e-6}, {@code pool_size=24}, {@code halfway_tree=True}, no Lévy area): a Brownian
 * motion on [t0, t1] whose increment over any query interval is a deterministic function of the
 * entropy. The interval is split at (rounded) halves until a query's end points are node boundaries;
 * each split node draws one torch normal tensor from a generator seeded by numpy's
 * {@code SeedSequence(entropy, spawn_key=(key, depth), pool_size=24)}, and a child's increment is
 * the Brownian bridge {@code W_left = (l/h)·W + √(l·r/h)·Z}, {@code W_right = W − W_left}. Times are
 * rounded to six decimals as Python's {@code round(x, 6)} does. Increments are float32 with the
 * scalars rounded to float32 as torch applies them, so results match torchsde bit for bit.
 */
final class BrownianInterval {

    private static final int POOL_SIZE = 24;
    private static final int DECIMALS = 6;
    private static final int CACHE_SIZE = 45;

    private static final class Node {
        final double start;
        final double end;
        final Node parent;
        final boolean isLeft;
        double midway = Double.NaN;
        long spawnKey;
        long depth;
        long wSeed;
        Node left;
        Node right;

        Node(double start, double end, Node parent, boolean isLeft) {
            this.start = start;
            this.end = end;
            this.parent = parent;
            this.isLeft = isLeft;
        }
    }

    private final int[] shape;
    private final int size;
    private final BigInteger entropy;
    private final Node top;
    private final float[] topW;
    private Node last;
    /** Recent node increments (the values do not depend on it; it only saves recomputation). */
    private final Map<Node, float[]> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Node, float[]> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    BrownianInterval(double t0, double t1, int[] shape, BigInteger entropy) {
        if (!(t0 <= t1)) {
            throw new IllegalArgumentException("Brownian interval: t0 = " + t0 + " must not exceed t1 = " + t1);
        }
        this.shape = shape.clone();
        int n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        this.size = n;
        this.entropy = entropy;
        this.top = new Node(round(t0), round(t1), null, false);
        this.last = top;
        long[] seeds = new SeedSequence(entropy, new long[0], POOL_SIZE).generateState(3);
        float[] w = randn(seeds[0]);
        float scale = (float) Math.sqrt(t1 - t0);
        for (int k = 0; k < n; k++) {
            w[k] = w[k] * scale;
        }
        this.topW = w;
    }

    int[] shape() {
        return shape.clone();
    }

    /** Python's {@code round(x, 6)}: the exact binary value rounded half-even to six decimals. */
    static double round(double x) {
        if (!Double.isFinite(x)) {
            return x;
        }
        return Double.parseDouble(new BigDecimal(x).setScale(DECIMALS, RoundingMode.HALF_EVEN).toString());
    }

    private float[] randn(long seed) {
        float[] z = new float[size];
        new TorchGenerator(seed).fillNormal(z);
        return z;
    }

    /** W(tb) − W(ta), with the query clamped to [t0, t1] as torchsde clamps it (with a warning). */
    float[] increment(double ta, double tb) {
        ta = Math.min(Math.max(ta, top.start), top.end);
        tb = Math.min(Math.max(tb, top.start), top.end);
        if (ta > tb) {
            throw new IllegalArgumentException("Brownian interval query ta = " + ta + " > tb = " + tb);
        }
        if (ta == tb) {
            return new float[size];
        }
        List<Node> intervals = new ArrayList<>();
        locate(last, round(ta), round(tb), intervals);
        last = intervals.get(intervals.size() - 1);
        float[] w = w(intervals.get(0)).clone();
        for (int i = 1; i < intervals.size(); i++) {
            float[] wi = w(intervals.get(i));
            for (int k = 0; k < size; k++) {
                w[k] = w[k] + wi[k];
            }
        }
        return w;
    }

    /** {@code _loc_inner}: the nodes that exactly tile [ta, tb], splitting as needed. */
    private void locate(Node n, double ta, double tb, List<Node> out) {
        while (true) {
            if (ta < n.start || tb > n.end) {
                n = n.parent;
                continue;
            }
            if (ta == n.start && tb == n.end) {
                out.add(n);
                return;
            }
            if (Double.isNaN(n.midway)) {
                if (ta == n.start) {
                    split(n, tb);
                    n = n.left;
                } else {
                    split(n, ta);
                    n = n.right;
                }
                continue;
            }
            if (tb <= n.midway) {
                n = n.left;
                continue;
            }
            if (ta >= n.midway) {
                n = n.right;
                continue;
            }
            locate(n.left, ta, n.midway, out);
            ta = n.midway;
            n = n.right;
        }
    }

    /** The halfway tree's {@code _split}: halve, then keep halving the child that holds {@code point}. */
    private void split(Node n, double point) {
        while (true) {
            splitExact(n, 0.5 * (n.end + n.start));
            if (point > n.midway) {
                n = n.right;
            } else if (point < n.midway) {
                n = n.left;
            } else {
                return;
            }
        }
    }

    private void splitExact(Node n, double midway) {
        n.midway = round(midway);
        if (n.parent == null) {
            n.spawnKey = 0;
            n.depth = 0;
        } else {
            n.spawnKey = 2 * n.parent.spawnKey + (n.isLeft ? 0 : 1);
            n.depth = n.parent.depth + 1;
        }
        n.wSeed = new SeedSequence(entropy, new long[] {n.spawnKey, n.depth}, POOL_SIZE).generateState(4)[0];
        n.left = new Node(n.start, round(midway), n, true);
        n.right = new Node(round(midway), n.end, n, false);
    }

    /** The increment over a node: the Brownian bridge from its parent's. */
    private float[] w(Node n) {
        if (n.parent == null) {
            return topW;
        }
        float[] cached = cache.get(n);
        if (cached != null) {
            return cached;
        }
        Node p = n.parent;
        float[] parentW = w(p);
        double hReciprocal = 1 / (p.end - p.start);
        double leftDiff = p.midway - p.start;
        double rightDiff = p.end - p.midway;
        float leftF = (float) leftDiff;
        float hF = (float) hReciprocal;
        float sd = (float) Math.sqrt(leftDiff * rightDiff * hReciprocal);
        float[] z = randn(p.wSeed);
        float[] out = new float[size];
        for (int k = 0; k < size; k++) {
            float leftW = (leftF * parentW[k]) * hF + sd * z[k];
            out[k] = n.isLeft ? leftW : parentW[k] - leftW;
        }
        cache.put(n, out);
        return out;
    }
}
