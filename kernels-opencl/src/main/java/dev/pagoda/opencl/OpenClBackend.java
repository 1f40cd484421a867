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
 * backend): {@link #matmul} and {@link #linear} (tiled GEMM through local memory, broadcast batch
 * dimensions, F16/BF16 weights widened in the kernel), {@link #add}, {@link #sub}, {@link #mul},
 * {@link #div}, {@link #axpby} (numpy broadcasting, strided operands read in place),
 * {@link #affine}, {@link #softmax}, {@link #silu}, {@link #gelu} (erf and tanh), {@link #quickGelu},
 * {@link #exp}, {@link #clamp}, and {@link #copy} to F32 (strided gather, widening halves).
 *
 * <p><b>Host fallback</b> for every other operation (conv2d, the norms, attention, geglu, concat,
 * upsampling, embeddings, copy to a non-F32 dtype): the inputs are downloaded, the CPU backend
 * ({@link Backend#cpu()}) computes the result, and the result is uploaded. This is correct but
 * pays two transfers and runs at CPU speed; it keeps the SPI complete while those kernels have no
 * OpenCL version.
 *
 * <p>Inputs may also be host tensors (e.g. weights not yet uploaded): they are uploaded for the
 * call and released after it. Upload weights once with {@link #upload(Tensor)} to avoid paying
 * that on every call. Floating inputs only; results are contiguous F32 device tensors.
 */
public final class OpenClBackend implements Backend {

    private final ClDevice device;
    private final ClTransfer transfer;
    private final ClElementwise elementwise;
    private final ClGemm gemm;
    private final ClSoftmax softmax;

    private OpenClBackend(ClDevice device) {
        this.device = device;
        this.transfer = new ClTransfer(this);
        this.elementwise = new ClElementwise(this);
        this.gemm = new ClGemm(this);
        this.softmax = new ClSoftmax(this);
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

    /** F32 targets from floating inputs run on the device; other conversions use the host fallback. */
    @Override
    public Tensor copy(Tensor x, DType dtype) {
        if (dtype == DType.F32 && x.dtype().isFloating()) {
            try (ClOperands ops = new ClOperands(this, "copy")) {
                Tensor d = ops.raw(x);
                return elementwise.contiguousF32(d);
            }
        }
        return hostFallback(h -> cpu().copy(h[0], dtype), x);
    }

    // ---------------------------------------------------------------- host fallback

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) {
        return hostFallback(h -> cpu().conv2d(h[0], h[1], h[2], stride, padding, groups), x, weight, bias);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        return hostFallback(h -> cpu().groupNorm(h[0], groups, h[1], h[2], eps, silu), x, gamma, beta);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return hostFallback(h -> cpu().layerNorm(h[0], h[1], h[2], eps), x, gamma, beta);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        return hostFallback(h -> cpu().rmsNorm(h[0], h[1], eps), x, gamma);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask,
            boolean[] identityRows) {
        return hostFallback(h -> cpu().attention(h[0], h[1], h[2], heads, scale, h[3], identityRows), q, k, v, mask);
    }

    @Override
    public Tensor geglu(Tensor x) {
        return hostFallback(h -> cpu().geglu(h[0]), x);
    }

    @Override
    public Tensor concat(int dim, Tensor... xs) {
        return hostFallback(h -> cpu().concat(dim, h), xs);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return hostFallback(h -> cpu().upsampleNearest2x(h[0]), x);
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        return hostFallback(h -> cpu().embedding(h[0], h[1]), table, ids);
    }

    @Override
    public Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift,
            float scale, int maxPeriod) {
        return hostFallback(h -> cpu().timestepEmbedding(h[0], dim, flipSinToCos, downscaleFreqShift, scale, maxPeriod),
                timesteps);
    }

    /**
     * Runs {@code op} on host copies of the inputs (null stays null) and uploads its result: the
     * host fallback described in the class comment.
     */
    Tensor hostFallback(Function<Tensor[], Tensor> op, Tensor... inputs) {
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
