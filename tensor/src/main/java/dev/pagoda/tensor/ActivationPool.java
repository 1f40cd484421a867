package dev.pagoda.tensor;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Float arrays of released activations, handed out again as the outputs of later operations.
 *
 * <p>Why: the JVM zero-fills every new array on the allocating thread, and G1 places each new
 * activation of megabytes in a region no recent call touched. For a norm or an elementwise op that
 * fill costs as much as the kernel (BENCHMARKS.md, "GroupNorm"). torch avoids it because its
 * allocator returns the block the previous call freed, still in cache; {@link Tensor#release()} is
 * how module code says a block is free.
 *
 * <p>Arrays are matched by exact length, newest first, so the one handed out is the most likely to
 * be in cache. The pool holds at most {@code pagoda.tensor.pool.bytes} (default an eighth of the
 * maximum heap) and {@value #MAX_ENTRIES} arrays, dropping the oldest beyond that, and holds them
 * softly so the collector takes them back before the heap runs out. Arrays under
 * {@value #MIN_LENGTH} floats are not pooled: allocating those costs less than finding them.
 *
 * <p>With {@code -Dpagoda.tensor.poison=true} (the test runs) every array given back, and every
 * fresh uninitialized one, is filled with NaN, so a kernel that leaves part of an output unwritten
 * shows up as NaN in the tests instead of as stale values.
 */
final class ActivationPool {

    static final int MIN_LENGTH = 1 << 14;
    static final int MAX_ENTRIES = 256;
    static final boolean POISON = Boolean.getBoolean("pagoda.tensor.poison");
    private static final long CAPACITY_BYTES =
            Long.getLong("pagoda.tensor.pool.bytes", Runtime.getRuntime().maxMemory() / 8);

    private record Entry(int length, SoftReference<float[]> array) {
    }

    /** Oldest first. */
    private static final ArrayDeque<Entry> FREE = new ArrayDeque<>();
    private static long heldBytes;

    private ActivationPool() {
    }

    /** An array of exactly {@code length} floats with arbitrary contents. */
    static float[] take(int length) {
        if (length >= MIN_LENGTH) {
            float[] a = poll(length);
            if (a != null) {
                return a;
            }
        }
        float[] a = new float[length];
        if (POISON) {
            Arrays.fill(a, Float.NaN);
        }
        return a;
    }

    /** Gives back an array no tensor will read again. */
    static void give(float[] a) {
        if (POISON) {
            Arrays.fill(a, Float.NaN);
        }
        if (a.length < MIN_LENGTH || 4L * a.length > CAPACITY_BYTES) {
            return;
        }
        synchronized (FREE) {
            FREE.addLast(new Entry(a.length, new SoftReference<>(a)));
            heldBytes += 4L * a.length;
            while (heldBytes > CAPACITY_BYTES || FREE.size() > MAX_ENTRIES) {
                heldBytes -= 4L * FREE.removeFirst().length;
            }
        }
    }

    private static float[] poll(int length) {
        synchronized (FREE) {
            Iterator<Entry> it = FREE.descendingIterator();
            while (it.hasNext()) {
                Entry e = it.next();
                if (e.length != length) {
                    continue;
                }
                it.remove();
                heldBytes -= 4L * length;
                float[] a = e.array.get();
                if (a != null) {
                    return a;
                }
            }
            return null;
        }
    }

    /** Bytes of arrays currently pooled (some may have been cleared by the collector). For tests. */
    static long heldBytes() {
        synchronized (FREE) {
            return heldBytes;
        }
    }

    /** Empties the pool. For tests. */
    static void clear() {
        synchronized (FREE) {
            FREE.clear();
            heldBytes = 0;
        }
    }
}
