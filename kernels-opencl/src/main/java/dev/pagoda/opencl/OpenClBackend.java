package dev.pagoda.opencl;

import java.util.function.Function;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * The tensor {@link Backend} on an OpenCL device: tensors whose storage is a {@link ClStorage}
 * dispatch here, and results stay on the device.
 *
 * <p><b>Device kernels</b> (OpenCL C sources in {@code dev/pagoda/opencl/*.cl}, built once per
 * backend): every operation of the SPI. GEMM and conv2d (implicit GEMM) are tiled through local
 * memory and widen F16/BF16 weights as they stage them; attention is fused (online softmax, PAG
 * identity rows, optional mask, no score matrix); the norms are work-group reductions; the rest
 * are strided element-wise and copy kernels. Results are contiguous device tensors.
 *
 * <p><b>Host fallback</b> remains only for what no kernel addresses: tensors with more than 8
 * dimensions that cannot be merged, and conversions between integer and floating dtypes. Each one
 * is logged (once per operation, as a warning) and counted in {@link #counters()}, never silent.
 *
 * <p>Inputs may also be host tensors (e.g. weights not yet uploaded): they are uploaded for the
 * call and released after it, and counted as implicit uploads. Move weights once with
 * {@link #resident(Tensor)} (what {@code Module.to(backend)} does) to avoid paying that on every
 * call.
 */
public final class OpenClBackend implements Backend {

    private final ClDevice device;
    private final ClTransfer transfer;
    private final ClElementwise elementwise;
    private final ClGemm gemm;
    private final ClSoftmax softmax;
    private final ClConv conv;
    private final ClNorms norms;
    private final ClAttention attention;
    private final ClData data;
    private final ClCounters counters = new ClCounters();
    private final java.util.Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final System.Logger LOG = System.getLogger(OpenClBackend.class.getName());

    private OpenClBackend(ClDevice device) {
        this.device = device;
        this.transfer = new ClTransfer(this);
        this.elementwise = new ClElementwise(this);
        this.gemm = new ClGemm(this);
        this.softmax = new ClSoftmax(this);
        this.conv = new ClConv(this);
        this.norms = new ClNorms(this);
        this.attention = new ClAttention(this);
        this.data = new ClData(this);
    }

    /**
     * Opens the preferred device (system property {@code pagoda.opencl.device} selects by name;
     * else a GPU, an accelerator, then a CPU device) and builds the kernels.
     *
     * @throws org.jocl.CLException  when OpenCL reports an error (no platform, build failure, …)
     * @throws IllegalStateException when no usable device exists
     */
    public static OpenClBackend create() {
        return new OpenClBackend(ClDevice.open());
    }

    /** Opens device {@code device} of platform {@code platform} (indices as {@code pagoda devices} lists them). */
    public static OpenClBackend create(int platform, int device) {
        return new OpenClBackend(ClDevice.open(platform, device));
    }

    @Override
    public String name() {
        return "opencl";
    }

    /** The device and platform in use, e.g. {@code "pthread-… (Portable Computing Language)"}. */
    public String deviceName() {
        return device.name();
    }

    /** Bytes of device memory held by this backend's live buffers. */
    public long liveBytes() {
        return device.liveBytes();
    }

    /**
     * A rough FP32 peak in GFLOP/s: compute units × clock × 2 (FMA) × {@code lanesPerUnit} (128 for
     * NVIDIA SMs since Volta, 64 for AMD CUs; OpenCL does not report it).
     */
    public double fp32PeakGflops(int lanesPerUnit) {
        return device.computeUnits * (double) device.clockMhz * 1e-3 * 2 * lanesPerUnit;
    }

    /** The device's global memory, in bytes. */
    public long globalMemoryBytes() {
        return device.globalMemory();
    }

    @Override
    public long deviceMemoryBytes() {
        return device.globalMemory();
    }

    @Override
    public long peakDeviceBytes() {
        return device.peakBytes();
    }

    /** Host fallbacks, implicit and resident uploads of this backend. */
    public ClCounters counters() {
        return counters;
    }

    /**
     * {@code x} on this device in its stored dtype, uploaded once: a host tensor is copied to a new
     * device buffer (and the upload counted, so a test can show no weight goes up twice); a tensor
     * of this backend is returned as it is.
     */
    @Override
    public Tensor resident(Tensor x) {
        if (owns(x)) {
            return x;
        }
        counters.residentUpload(x);
        return transfer.upload(x);
    }

    @Override
    public Tensor toHost(Tensor x) {
        return download(x);
    }

    // ---------------------------------------------------------------- transfers

    /**
     * A contiguous device copy of {@code x} in the same dtype (F32, F16/BF16 weights kept at their
     * size, integers); any layout on the host is accepted. A tensor already on this device is
     * returned as it is.
     */
    public Tensor upload(Tensor x) {
        return owns(x) ? x : transfer.upload(x);
    }

    /** A contiguous device copy of {@code x} converted to {@code dtype} (e.g. halves widened to F32). */
    public Tensor upload(Tensor x, DType dtype) {
        if (owns(x)) {
            return x.dtype() == dtype && x.isContiguous() ? x : copy(x, dtype);
        }
        return transfer.upload(x.dtype() == dtype ? x : x.to(dtype));
    }

    /**
     * A host copy of device tensor {@code x}: a contiguous F32 heap tensor for floating dtypes
     * (halves widened), a contiguous tensor of the same dtype for integer ones. Host tensors are
     * returned converted the same way.
     */
    public Tensor download(Tensor x) {
        if (x.storage() instanceof ClStorage s) {
            return s.openClBackend().transfer.download(x);
        }
        return x.dtype().isFloating() ? x.to(DType.F32) : x.contiguous();
    }

    // ---------------------------------------------------------------- device kernels

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        return gemm.matmul(a, b);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return gemm.linear(x, weight, bias);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return softmax.softmax(x);
    }

    @Override
    public Tensor gelu(Tensor x, boolean tanh) {
        return elementwise.unary("gelu", tanh ? "ew_gelu_tanh" : "ew_gelu_erf", x, 0, 0, h -> cpu().gelu(h, tanh));
    }

    @Override
    public Tensor quickGelu(Tensor x) {
        return elementwise.unary("quickGelu", "ew_quick_gelu", x, 0, 0, h -> cpu().quickGelu(h));
    }

    @Override
    public Tensor silu(Tensor x) {
        return elementwise.unary("silu", "ew_silu", x, 0, 0, h -> cpu().silu(h));
    }

    @Override
    public Tensor exp(Tensor x) {
        return elementwise.unary("exp", "ew_exp", x, 0, 0, h -> cpu().exp(h));
    }

    @Override
    public Tensor clamp(Tensor x, float min, float max) {
        return elementwise.unary("clamp", "ew_clamp", x, min, max, h -> cpu().clamp(h, min, max));
    }

    @Override
    public Tensor affine(Tensor x, float mul, float add) {
        return elementwise.unary("affine", "ew_affine", x, mul, add, h -> cpu().affine(h, mul, add));
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return elementwise.binary("add", "ew_axpby", 1f, a, 1f, b, (x, y) -> cpu().add(x, y));
    }

    @Override
    public Tensor sub(Tensor a, Tensor b) {
        return elementwise.binary("sub", "ew_axpby", 1f, a, -1f, b, (x, y) -> cpu().sub(x, y));
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return elementwise.binary("mul", "ew_mul", 0, a, 0, b, (x, y) -> cpu().mul(x, y));
    }

    @Override
    public Tensor div(Tensor a, Tensor b) {
        return elementwise.binary("div", "ew_div", 0, a, 0, b, (x, y) -> cpu().div(x, y));
    }

    @Override
    public Tensor axpby(float alpha, Tensor x, float beta, Tensor y) {
        return elementwise.binary("axpby", "ew_axpby", alpha, x, beta, y, (p, q) -> cpu().axpby(alpha, p, beta, q));
    }

    /** Every float↔float and int↔int conversion runs on the device; float↔int uses the host fallback. */
    @Override
    public Tensor copy(Tensor x, DType dtype) {
        if (ClData.canCopy(x.dtype(), dtype)) {
            try (ClOperands ops = new ClOperands(this, "copy")) {
                Tensor d = ops.any(x);
                if (ClLayout.of(d.shape(), d.strides(), Shapes.contiguousStrides(d.shape())) != null) {
                    return data.copy(d, dtype);
                }
            }
        }
        return hostFallback("copy " + x.dtype() + "->" + dtype, h -> cpu().copy(h[0], dtype), x);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) {
        return conv.conv2d(x, weight, bias, stride, padding, groups);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        return norms.groupNorm(x, groups, gamma, beta, eps, silu);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return norms.layerNorm(x, gamma, beta, eps);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        return norms.rmsNorm(x, gamma, eps);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask,
            boolean[] identityRows) {
        return attention.attention(q, k, v, heads, scale, mask, identityRows);
    }

    @Override
    public Tensor geglu(Tensor x) {
        return data.geglu(x);
    }

    @Override
    public Tensor concat(int dim, Tensor... xs) {
        if (xs == null || xs.length == 0) {
            throw new IllegalArgumentException("concat: no tensors given");
        }
        Tensor first = xs[0];
        int rank = first.rank();
        if (rank == 0) {
            throw new IllegalArgumentException("concat: cannot concatenate 0-dimensional tensors");
        }
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException("concat: dimension " + dim + " out of range for shape "
                    + Shapes.str(first.shape()));
        }
        DType dtype = first.dtype();
        boolean allFloat = true;
        int[] outShape = first.shape();
        outShape[d] = 0;
        for (Tensor x : xs) {
            int[] s = x.shape();
            boolean same = s.length == rank;
            for (int i = 0; same && i < rank; i++) {
                same = i == d || s[i] == outShape[i];
            }
            if (!same) {
                throw new IllegalArgumentException("concat along dimension " + d + ": shapes "
                        + Shapes.str(first.shape()) + " and " + Shapes.str(s) + " differ outside that dimension");
            }
            outShape[d] = Math.addExact(outShape[d], s[d]);
            allFloat &= x.dtype().isFloating();
            if (x.dtype() != dtype) {
                if (!allFloat) {
                    throw new IllegalArgumentException("concat: cannot mix dtypes " + dtype + " and " + x.dtype());
                }
                dtype = DType.F32;
            }
        }
        if (ClLayout.of(outShape, Shapes.contiguousStrides(outShape)) == null) {
            return hostFallback("concat", h -> cpu().concat(dim, h), xs);
        }
        return data.concat(dim, xs, dtype, outShape, d);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return data.upsampleNearest2x(x);
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        return data.embedding(table, ids);
    }

    @Override
    public Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift,
            float scale, int maxPeriod) {
        return data.timestepEmbedding(timesteps, dim, flipSinToCos, downscaleFreqShift, scale, maxPeriod);
    }

    // ---------------------------------------------------------------- host fallback

    /**
     * Runs {@code op} on host copies of the inputs (null stays null) and uploads its result: the
     * named, logged and counted host fallback described in the class comment.
     */
    Tensor hostFallback(String opName, Function<Tensor[], Tensor> op, Tensor... inputs) {
        counters.fallback(opName);
        if (warned.add(opName)) {
            LOG.log(System.Logger.Level.WARNING, "OpenCL backend: " + opName + " runs on the host for "
                    + java.util.Arrays.stream(inputs).map(String::valueOf).toList() + " (no device kernel for this "
                    + "layout or dtype); later fallbacks of " + opName + " are counted, not logged");
        }
        Tensor[] host = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            host[i] = x == null || !(x.storage() instanceof ClStorage s) ? x : s.openClBackend().transfer.toHost(x);
        }
        return transfer.upload(op.apply(host));
    }

    // ---------------------------------------------------------------- package plumbing

    private static Backend cpu() {
        return Backend.cpu();
    }

    ClDevice device() {
        return device;
    }

    ClTransfer transfer() {
        return transfer;
    }

    ClElementwise elementwise() {
        return elementwise;
    }

    /** Whether {@code x} lives in this backend's context. */
    boolean owns(Tensor x) {
        return x.storage() instanceof ClStorage s && s.openClBackend() == this;
    }

    /** A new, uninitialised contiguous device tensor. */
    Tensor allocate(DType dtype, int[] shape) {
        long bytes = Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize());
        return new Tensor(dtype, shape, Shapes.contiguousStrides(shape), 0, new ClStorage(this, bytes));
    }

    @Override
    public String toString() {
        return "OpenClBackend[" + device.name() + "]";
    }
}
