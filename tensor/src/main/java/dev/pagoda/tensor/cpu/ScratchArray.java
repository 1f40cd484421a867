package dev.pagoda.tensor.cpu;

import java.lang.ref.SoftReference;

/**
 * One large float array per thread, handed out again by the next call on that thread instead of a
 * fresh allocation. A fresh {@code new float[]} of tens of megabytes is zeroed by the JVM before use,
 * and for Winograd's transformed weights and tiles (up to ~470 MB at 2560→1280 channels) that
 * zeroing cost a quarter of the convolution. The contents are stale: callers must overwrite what
 * they read. The array is held softly, so the collector may take it back under memory pressure.
 */
final class ScratchArray {

    private final ThreadLocal<SoftReference<float[]>> held = new ThreadLocal<>();

    /** An array of at least {@code length} floats with arbitrary contents, owned by this thread until its next call. */
    float[] get(long length) {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("scratch array of " + length + " floats is larger than a Java array");
        }
        SoftReference<float[]> ref = held.get();
        float[] a = ref == null ? null : ref.get();
        if (a == null || a.length < length) {
            a = null; // let the old one go before allocating the larger one
            held.remove();
            a = new float[(int) length];
            held.set(new SoftReference<>(a));
        }
        return a;
    }
}
