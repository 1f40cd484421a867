package dev.pagoda.opencl;

import java.util.WeakHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;

/**
 * What crossed the bus and what did not run on the device, per backend: host fallbacks and
 * implicit uploads by operation name, resident uploads (weights moved once by
 * {@link OpenClBackend#resident}), and uploads of a host tensor that was already resident. Tests
 * read these to prove that a step runs entirely on the device.
 */
public final class ClCounters {

    private final Map<String, Long> fallbacks = new TreeMap<>();
    private final Map<String, Long> implicitUploads = new TreeMap<>();
    private final AtomicLong residentUploads = new AtomicLong();
    private final AtomicLong residentBytes = new AtomicLong();
    private final AtomicLong repeatedUploads = new AtomicLong();
    /** Host storages (weakly: per-step latents must not be kept) and the offsets of their resident views. */
    private final Map<Storage, Set<Long>> residentOffsets = new WeakHashMap<>();

    synchronized void fallback(String op) {
        fallbacks.merge(op, 1L, Long::sum);
    }

    synchronized void implicitUpload(String op, Tensor host) {
        implicitUploads.merge(op, 1L, Long::sum);
    }

    synchronized void residentUpload(Tensor host) {
        residentUploads.incrementAndGet();
        residentBytes.addAndGet(host.numel() * host.dtype().byteSize());
        Set<Long> offsets = residentOffsets.computeIfAbsent(host.storage(), s -> new java.util.HashSet<>());
        if (!offsets.add(host.offset())) {
            repeatedUploads.incrementAndGet();
        }
    }

    /** Host fallbacks by operation. */
    public synchronized Map<String, Long> fallbacks() {
        return Map.copyOf(fallbacks);
    }

    /** Host operands uploaded for a single operation, by operation. */
    public synchronized Map<String, Long> implicitUploads() {
        return Map.copyOf(implicitUploads);
    }

    public long residentUploads() {
        return residentUploads.get();
    }

    public long residentBytes() {
        return residentBytes.get();
    }

    /** Resident uploads of a host tensor (same storage and offset) that had been uploaded before. */
    public long repeatedUploads() {
        return repeatedUploads.get();
    }

    /** Forgets fallbacks and implicit uploads (resident bookkeeping stays). */
    public synchronized void resetOperations() {
        fallbacks.clear();
        implicitUploads.clear();
    }

    @Override
    public synchronized String toString() {
        return "fallbacks " + fallbacks + ", implicit uploads " + implicitUploads + ", resident uploads "
                + residentUploads + " (" + residentBytes + " bytes, " + repeatedUploads + " repeated)";
    }
}
