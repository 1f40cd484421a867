package dev.pagoda.opencl;

import static org.jocl.CL.clReleaseMemObject;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.jocl.cl_mem;

/**
 * Released device buffers kept for reuse, by exact size: a denoising loop allocates the same
 * activation sizes every step, so after the first step nearly every allocation is a pool hit.
 * The pool holds at most {@code limitBytes}; beyond that buffers go back to the device.
 */
final class ClBufferPool {

    private final long limitBytes;
    private final Map<Long, ArrayDeque<cl_mem>> free = new HashMap<>();
    private long bytes;

    ClBufferPool(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    synchronized cl_mem take(long size) {
        ArrayDeque<cl_mem> q = free.get(size);
        if (q == null || q.isEmpty()) {
            return null;
        }
        bytes -= size;
        return q.pop();
    }

    /** Keeps {@code mem}; false when the pool is full (the caller releases it). */
    synchronized boolean give(cl_mem mem, long size) {
        if (bytes + size > limitBytes) {
            return false;
        }
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(mem);
        bytes += size;
        return true;
    }

    synchronized long bytes() {
        return bytes;
    }

    /** Releases every pooled buffer. */
    synchronized void drain() {
        free.values().forEach(q -> q.forEach(m -> clReleaseMemObject(m)));
        free.clear();
        bytes = 0;
    }
}
