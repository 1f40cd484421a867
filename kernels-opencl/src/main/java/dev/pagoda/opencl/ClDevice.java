package dev.pagoda.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_AVAILABLE;
import static org.jocl.CL.CL_DEVICE_ENDIAN_LITTLE;
import static org.jocl.CL.CL_DEVICE_EXTENSIONS;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_CLOCK_FREQUENCY;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.jocl.CL.CL_KERNEL_FUNCTION_NAME;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernelsInProgram;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * One OpenCL device with its context, in-order command queue and the kernel program built once.
 * The context lives as long as the JVM (a backend is a process-wide object); buffers are released
 * one by one through {@link ClStorage}.
 *
 * <p>Kernel objects hold their arguments, so setting arguments and enqueueing happen under this
 * object's lock; transfers are blocking, which keeps host memory handed to OpenCL valid only for
 * the duration of the call.
 */
final class ClDevice {

    /** System property: extra OpenCL C compiler options appended to Pagoda's (e.g. {@code -cl-mad-enable}). */
    static final String BUILD_OPTIONS_PROPERTY = "pagoda.opencl.buildOptions";

    /**
     * System property (or environment variable {@code PAGODA_OPENCL_DEVICE}, which forked test JVMs
     * inherit): a substring of the device name to use when several devices exist.
     */
    static final String DEVICE_PROPERTY = "pagoda.opencl.device";

    /** The kernel sources, concatenated in this order into one program (one compile per JVM). */
    private static final String[] SOURCES = {"strided.cl", "copy.cl", "elementwise.cl", "gemm.cl", "conv.cl", "softmax.cl",
            "norm.cl", "attention.cl", "misc.cl"};

    /** Work-group size of the one-dimensional element-wise launches. */
    final int linearGroup;
    /** Work-group size limit for the softmax row reductions (a power of two). */
    final int maxReductionGroup;
    /** GEMM output tile edge, register block edge and K slab, baked into the program with -D. */
    final int gemmTile;
    final int gemmBlock;
    private static final int GEMM_SLAB = 16;
    /** Output columns per attention pass (the kernel's private accumulator). */
    static final int ATTENTION_COLUMNS = 64;

    private final String name;
    private final long maxAllocation;
    private final long globalMemory;
    /** Compute units and their clock (MHz), for a rough FP32 peak. */
    final int computeUnits;
    final int clockMhz;
    private final cl_context context;
    private final cl_command_queue queue;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final ClBufferPool pool;

    /** A device found by {@link #select()}, not yet opened. */
    record Candidate(cl_platform_id platform, cl_device_id device, String platformName, String deviceName) {
    }

    /** A {@code long4} kernel argument. */
    record Long4(long[] values) {
    }

    /** Local memory argument of the given size (kernel arguments declared {@code __local}). */
    record LocalBytes(long bytes) {
    }

    private ClDevice(Candidate candidate) {
        CL.setExceptionsEnabled(true);
        cl_device_id device = candidate.device();
        if (deviceInt(device, CL_DEVICE_ENDIAN_LITTLE) == 0) {
            throw new IllegalStateException("OpenCL device " + candidate.deviceName()
                    + " is big-endian; Pagoda's tensors are little-endian");
        }
        this.name = candidate.deviceName() + " (" + candidate.platformName() + ")";
        this.maxAllocation = deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        long maxGroup = deviceLong(device, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        long localMem = deviceLong(device, CL_DEVICE_LOCAL_MEM_SIZE);
        this.gemmBlock = 4;

        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, candidate.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {device}, null, null, null);
        this.queue = createQueue(context, device);
        this.pool = new ClBufferPool(Math.min(deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE) / 8, 1L << 30));
        this.globalMemory = deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE);
        this.computeUnits = deviceInt(device, CL_DEVICE_MAX_COMPUTE_UNITS);
        this.clockMhz = deviceInt(device, CL_DEVICE_MAX_CLOCK_FREQUENCY);

        // The GEMM tile shrinks until its work-group and two slabs fit the device, and then until
        // the compiled kernels accept that work-group (registers can limit it below the device's).
        int tile = 64;
        while (tile > gemmBlock && ((long) (tile / gemmBlock) * (tile / gemmBlock) > maxGroup
                || 2L * GEMM_SLAB * tile * 4 > localMem)) {
            tile /= 2;
        }
        while (true) {
            cl_program built = build(context, device, buildOptions(device, tile));
            createKernels(built);
            long group = (long) (tile / gemmBlock) * (tile / gemmBlock);
            if (tile == gemmBlock || kernelGroupLimit(device, true) >= group) {
                break;
            }
            releaseKernels();
            clReleaseProgram(built);
            tile /= 2;
        }
        this.gemmTile = tile;
        long limit = Math.min(maxGroup, kernelGroupLimit(device, false));
        this.linearGroup = (int) Math.min(64, limit);
        this.maxReductionGroup = Integer.highestOneBit((int) Math.min(128, limit));
    }

    static ClDevice open() {
        return new ClDevice(select());
    }

    /** Opens device {@code device} of platform {@code platform}, indices as {@link #describeAll()} lists them. */
    static ClDevice open(int platform, int device) {
        cl_platform_id[] platforms = platforms();
        if (platform < 0 || platform >= platforms.length) {
            throw new IllegalArgumentException("no OpenCL platform " + platform + " (" + platforms.length
                    + " installed; see `pagoda devices`)");
        }
        List<cl_device_id> ids = devices(platforms[platform]);
        if (device < 0 || device >= ids.size()) {
            throw new IllegalArgumentException("OpenCL platform " + platform + " has no device " + device + " ("
                    + ids.size() + " devices; see `pagoda devices`)");
        }
        cl_device_id id = ids.get(device);
        return new ClDevice(new Candidate(platforms[platform], id, platformString(platforms[platform], CL_PLATFORM_NAME),
                deviceString(id, CL_DEVICE_NAME)));
    }

    /** One line per device: {@code P:D  name  (platform)  memory, fp16, fp64, compute units}. */
    static List<String> describeAll() {
        List<String> out = new ArrayList<>();
        cl_platform_id[] platforms = platforms();
        for (int p = 0; p < platforms.length; p++) {
            List<cl_device_id> ids = devices(platforms[p]);
            for (int d = 0; d < ids.size(); d++) {
                cl_device_id id = ids.get(d);
                String ext = deviceString(id, CL_DEVICE_EXTENSIONS);
                out.add(String.format(Locale.ROOT, "%d:%d  %s  (%s)  %.0f MiB, %d compute units, fp16 %s, fp64 %s%s", p,
                        d, deviceString(id, CL_DEVICE_NAME), platformString(platforms[p], CL_PLATFORM_NAME),
                        deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE) / 1048576.0, deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                        ext.contains("cl_khr_fp16") ? "yes" : "no", ext.contains("cl_khr_fp64") ? "yes" : "no",
                        deviceInt(id, CL_DEVICE_AVAILABLE) != 0 ? "" : "  [not available]"));
            }
        }
        return out;
    }

    private static cl_platform_id[] platforms() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        if (count[0] > 0) {
            clGetPlatformIDs(platforms.length, platforms, null);
        }
        return platforms;
    }

    String name() {
        return name;
    }

    long liveBytes() {
        return liveBytes.get();
    }

    /** The device's global memory, in bytes. */
    long globalMemory() {
        return globalMemory;
    }

    // ---------------------------------------------------------------- discovery

    /**
     * The device a backend would use: the one named by {@value #DEVICE_PROPERTY} if set, else the
     * first GPU, then accelerator, then CPU device.
     *
     * @throws CLException           when the platform layer reports an error (no platform at all
     *                               shows up as {@code CL_PLATFORM_NOT_FOUND_KHR})
     * @throws IllegalStateException when platforms exist but no usable device does
     */
    static Candidate select() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        if (count[0] == 0) {
            throw new IllegalStateException("no OpenCL platform is installed");
        }
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        String wanted = System.getProperty(DEVICE_PROPERTY,
                System.getenv().getOrDefault("PAGODA_OPENCL_DEVICE", "")).toLowerCase(Locale.ROOT);
        List<Candidate> found = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            for (cl_device_id device : devices(platform)) {
                String deviceName = deviceString(device, CL_DEVICE_NAME);
                if (deviceInt(device, CL_DEVICE_AVAILABLE) != 0
                        && deviceName.toLowerCase(Locale.ROOT).contains(wanted)) {
                    found.add(new Candidate(platform, device, platformString(platform, CL_PLATFORM_NAME), deviceName));
                }
            }
        }
        for (long type : new long[] {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_CPU}) {
            for (Candidate c : found) {
                if ((deviceLong(c.device(), CL_DEVICE_TYPE) & type) != 0) {
                    return c;
                }
            }
        }
        if (!found.isEmpty()) {
            return found.getFirst();
        }
        throw new IllegalStateException(wanted.isEmpty()
                ? "OpenCL platforms exist but none has an available device"
                : "no available OpenCL device name contains \"" + wanted + "\" (" + DEVICE_PROPERTY + ")");
    }

    private static List<cl_device_id> devices(cl_platform_id platform) {
        int[] n = new int[1];
        try {
            clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[n[0]];
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
        return List.of(ids);
    }

    // ---------------------------------------------------------------- memory

    /** A new device buffer; {@link #released(long)} must be called with the same size when it goes. */
    cl_mem allocate(long bytes) {
        if (bytes > maxAllocation) {
            throw new IllegalArgumentException("OpenCL buffer of " + bytes + " bytes exceeds the device's "
                    + "largest allocation (" + maxAllocation + " bytes) on " + name);
        }
        // Zero-element tensors still get a (tiny) buffer: OpenCL rejects size 0.
        long size = Math.max(bytes, 4);
        cl_mem mem = pool.take(size);
        if (mem == null && liveBytes.get() + pool.bytes() + size > globalMemory / 2) {
            // Dropped activations are freed by a Cleaner after a GC, and the Java heap may see no
            // pressure at all (a device tensor is a small object): past half the device, ask for one
            // (some drivers only fail allocations lazily, at the first kernel that touches them).
            collectDroppedBuffers();
            mem = pool.take(size);
        }
        if (mem == null) {
            try {
                mem = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
            } catch (CLException e) {
                // Buffers dropped without close() are released by a Cleaner: give it one chance to
                // run, and hand the pooled buffers back to the device.
                System.gc();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pool.drain();
                try {
                    mem = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
                } catch (CLException again) {
                    throw new ClOutOfMemoryException("OpenCL device " + name + " cannot allocate " + bytes
                            + " more bytes (" + liveBytes.get() + " held by live tensors)", again);
                }
            }
        }
        long live = liveBytes.addAndGet(bytes);
        peakBytes.accumulateAndGet(live + pool.bytes(), Math::max);
        return mem;
    }

    private long lastCollection;

    private synchronized void collectDroppedBuffers() {
        long now = System.nanoTime();
        if (now - lastCollection < 1_000_000_000L) {
            return;
        }
        lastCollection = now;
        System.gc();
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A buffer whose tensors are gone: kept for reuse by an allocation of the same size. The queue
     * is in order, so a kernel that writes the reused buffer runs after every kernel that read it.
     */
    void released(cl_mem mem, long bytes) {
        liveBytes.addAndGet(-bytes);
        if (!pool.give(mem, Math.max(bytes, 4))) {
            clReleaseMemObject(mem);
        }
    }

    /** The most device memory held at once (live tensors and pooled buffers), in bytes. */
    long peakBytes() {
        return peakBytes.get();
    }

    void write(cl_mem mem, long byteOffset, long bytes, Pointer source) {
        if (bytes > 0) {
            clEnqueueWriteBuffer(queue, mem, true, byteOffset, bytes, source, 0, null, null);
        }
    }

    void read(cl_mem mem, long byteOffset, long bytes, Pointer target) {
        if (bytes > 0) {
            clEnqueueReadBuffer(queue, mem, true, byteOffset, bytes, target, 0, null, null);
        }
    }

    // ---------------------------------------------------------------- kernels

    /**
     * Sets the arguments of kernel {@code kernelName} and enqueues it. Arguments: {@link cl_mem},
     * Integer, Long, Float, {@code int[8]} (an {@code int8}), {@code long[8]} (a {@code long8}),
     * {@link LocalBytes}.
     */
    synchronized void launch(String kernelName, long[] global, long[] local, Object... args) {
        cl_kernel kernel = kernels.get(kernelName);
        if (kernel == null) {
            throw new IllegalArgumentException("no kernel named " + kernelName + " in the OpenCL program");
        }
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case cl_mem m -> clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(m));
                case Integer v -> clSetKernelArg(kernel, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                case Long v -> clSetKernelArg(kernel, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
                case Float v -> clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                case int[] v when v.length == 8 -> clSetKernelArg(kernel, i, Sizeof.cl_int8, Pointer.to(v));
                case long[] v when v.length == 8 -> clSetKernelArg(kernel, i, Sizeof.cl_long8, Pointer.to(v));
                case LocalBytes(long bytes) -> clSetKernelArg(kernel, i, bytes, null);
                case Long4(long[] v) -> clSetKernelArg(kernel, i, Sizeof.cl_long4, Pointer.to(v));
                default -> throw new IllegalArgumentException("kernel " + kernelName + " argument " + i
                        + " of unsupported type " + args[i].getClass().getName());
            }
        }
        clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
    }

    // ---------------------------------------------------------------- setup

    @SuppressWarnings("deprecation") // the 1.2 entry point: every platform has it, unlike the 2.0 one
    private static cl_command_queue createQueue(cl_context context, cl_device_id device) {
        return clCreateCommandQueue(context, device, 0, null);
    }

    private String buildOptions(cl_device_id device, int tile) {
        StringBuilder options = new StringBuilder("-cl-std=CL1.2");
        // Division rounds like Java's where the device can (GPUs default to 2.5 ulp).
        if ((deviceLong(device, CL_DEVICE_SINGLE_FP_CONFIG) & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0) {
            options.append(" -cl-fp32-correctly-rounded-divide-sqrt");
        }
        options.append(" -DGEMM_TS=").append(tile)
                .append(" -DGEMM_WPT=").append(gemmBlock)
                .append(" -DGEMM_TK=").append(GEMM_SLAB)
                .append(" -DATT_DV=").append(ATTENTION_COLUMNS);
        String extra = System.getProperty(BUILD_OPTIONS_PROPERTY, "").strip();
        if (!extra.isEmpty()) {
            options.append(' ').append(extra);
        }
        return options.toString();
    }

    /** Creates every kernel of the program; the kernels keep the program alive. */
    private void createKernels(cl_program built) {
        int[] count = new int[1];
        clCreateKernelsInProgram(built, 0, null, count);
        cl_kernel[] all = new cl_kernel[count[0]];
        clCreateKernelsInProgram(built, all.length, all, null);
        for (cl_kernel k : all) {
            long[] size = new long[1];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, null, size);
            byte[] bytes = new byte[(int) size[0]];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, bytes.length, Pointer.to(bytes), null);
            kernels.put(cString(bytes), k);
        }
    }

    private void releaseKernels() {
        kernels.values().forEach(CL::clReleaseKernel);
        kernels.clear();
    }

    /** The smallest work-group any of the GEMM kernels (or of the others) accepts on this device. */
    private long kernelGroupLimit(cl_device_id device, boolean gemm) {
        long limit = Long.MAX_VALUE;
        for (Map.Entry<String, cl_kernel> e : kernels.entrySet()) {
            if (e.getKey().startsWith("gemm_") == gemm) {
                long[] v = new long[1];
                clGetKernelWorkGroupInfo(e.getValue(), device, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t,
                        Pointer.to(v), null);
                limit = Math.min(limit, v[0]);
            }
        }
        return limit;
    }

    private static cl_program build(cl_context context, cl_device_id device, String options) {
        String[] sources = new String[SOURCES.length];
        for (int i = 0; i < SOURCES.length; i++) {
            sources[i] = resource(SOURCES[i]);
        }
        cl_program program = clCreateProgramWithSource(context, sources.length, sources, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            throw new ClBuildException("OpenCL kernels failed to build (" + options + "):\n"
                    + buildLog(program, device), e);
        }
        return program;
    }

    private static String buildLog(cl_program program, cl_device_id device) {
        long[] size = new long[1];
        clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] log = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        return cString(log);
    }

    private static String resource(String file) {
        try (InputStream in = ClDevice.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + file + " missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + file, e);
        }
    }

    private static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(device, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    private static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    /** A cl_ulong, cl_bitfield or (64-bit host) size_t property. */
    private static long deviceLong(cl_device_id device, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(device, param, Sizeof.cl_long, Pointer.to(v), null);
        return v[0];
    }

    /** A cl_uint or cl_bool property. */
    private static int deviceInt(cl_device_id device, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(device, param, Sizeof.cl_int, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] bytes) {
        int n = bytes.length;
        while (n > 0 && bytes[n - 1] == 0) {
            n--;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).strip();
    }
}
