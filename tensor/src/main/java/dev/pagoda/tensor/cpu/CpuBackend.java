package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

/** The CPU backend: each operation lives in the kernel class named after it. */
public final class CpuBackend implements Backend {

    public static final CpuBackend INSTANCE = new CpuBackend();

    /** What {@link Backend#cpu()} returns: the backend itself, or its timing decorator when profiling. */
    public static final Backend ACTIVE = OpProfile.ENABLED ? OpProfile.wrap(INSTANCE) : INSTANCE;

    /**
     * 3×3 stride-1 padding-1 convolutions with enough channels take {@link Winograd}, unless {@code
     * -Dpagoda.conv.winograd=false} or {@link #setConvWinograd(boolean)} turns it off. On by default
     * since its transforms became vector code: F(2×2) took a 512² batch-3 SDXL step from 21.6 s to
     * 20.0 s (median of six, interleaved, two threads; BENCHMARKS.md), for about 0.5 GiB of reused
     * scratch.
     */
    private static volatile boolean winograd = !"false".equalsIgnoreCase(System.getProperty("pagoda.conv.winograd"));

    /**
     * Output tile of the Winograd path, F(m×m, 3×3): 2 unless {@code -Dpagoda.conv.winograd.tile=4}.
     * Measured against float64 at the SDXL shapes (WinogradTest), F(2×2) errs 1.0e-6 of max|out|
     * (the implicit GEMM 5.5e-7) and F(4×4) 1.8e-5, a fifth of the golden tolerance for a whole
     * UNet forward from one conv alone, so F(4×4) is opt-in.
     */
    static final int WINOGRAD_TILE = Integer.getInteger("pagoda.conv.winograd.tile", 2);

    /**
     * Below this many input or output channels the transforms, which cost O(channels) per tile
     * whatever the GEMM saves, lose: in JMH at two threads F(2×2) was 1.1× slower than the implicit
     * GEMM at 128×256² and 2× slower at 32–64 channels, and faster from 256 channels up (1.2× at
     * 256×256², 1.4–1.6× at 320–1280). So SDXL's UNet convs (320–1280 channels) and the VAE's
     * 256- and 512-channel ones take it. {@code -Dpagoda.conv.winograd.minChannels=1} sends every
     * eligible conv through Winograd, so the tiny golden models (8–32 channels) check its accuracy
     * at every layer.
     */
    static final int WINOGRAD_MIN_CHANNELS = Integer.getInteger("pagoda.conv.winograd.minChannels", 256);

    private CpuBackend() {
    }

    /** Whether eligible 3×3 convolutions take the Winograd path. */
    public static boolean convWinograd() {
        return winograd;
    }

    /** Turns the Winograd convolution path on or off from now on (benchmarks time both paths). */
    public static void setConvWinograd(boolean on) {
        winograd = on;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        return Gemm.matmul(a, b);
    }

    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return Gemm.linear(x, weight, bias);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) {
        if (winograd && Winograd.applies(x, weight, stride, padding, groups)
                && Math.min(x.dim(1), weight.dim(0)) >= WINOGRAD_MIN_CHANNELS && x.dtype().isFloating()
                && weight.dtype().isFloating() && (bias == null || bias.rank() == 1 && bias.dim(0) == weight.dim(0)
                        && bias.dtype().isFloating())) {
            return Winograd.conv3x3(MicroKernel.preferred(), WINOGRAD_TILE, x, weight, bias);
        }
        return Conv2d.conv2d(x, weight, bias, stride, padding, groups);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        return Norms.groupNorm(x, groups, gamma, beta, eps, silu);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return Norms.layerNorm(x, gamma, beta, eps);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        return Norms.rmsNorm(x, gamma, eps);
    }

    @Override
    public Tensor softmax(Tensor x) {
        return Softmax.softmax(x);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask,
            boolean[] identityRows) {
        return FlashAttention.attention(q, k, v, heads, scale, mask, identityRows);
    }

    @Override
    public Tensor gelu(Tensor x, boolean tanh) {
        return Activations.gelu(x, tanh);
    }

    @Override
    public Tensor quickGelu(Tensor x) {
        return Activations.quickGelu(x);
    }

    @Override
    public Tensor silu(Tensor x) {
        return Activations.silu(x);
    }

    @Override
    public Tensor geglu(Tensor x) {
        return Activations.geglu(x);
    }

    @Override
    public Tensor exp(Tensor x) {
        return Activations.exp(x);
    }

    @Override
    public Tensor clamp(Tensor x, float min, float max) {
        return Activations.clamp(x, min, max);
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return Elementwise.add(a, b);
    }

    @Override
    public Tensor sub(Tensor a, Tensor b) {
        return Elementwise.sub(a, b);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return Elementwise.mul(a, b);
    }

    @Override
    public Tensor div(Tensor a, Tensor b) {
        return Elementwise.div(a, b);
    }

    @Override
    public Tensor affine(Tensor x, float mul, float add) {
        return Elementwise.affine(x, mul, add);
    }

    @Override
    public Tensor axpby(float alpha, Tensor x, float beta, Tensor y) {
        return Elementwise.axpby(alpha, x, beta, y);
    }

    @Override
    public Tensor copy(Tensor x, DType dtype) {
        return Copy.copy(x, dtype);
    }

    @Override
    public Tensor concat(int dim, Tensor... xs) {
        return Concat.concat(dim, xs);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return Upsample.nearest2x(x);
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        return Embedding.lookup(table, ids);
    }

    @Override
    public Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift,
            float scale, int maxPeriod) {
        return Embedding.timestep(timesteps, dim, flipSinToCos, downscaleFreqShift, scale, maxPeriod);
    }
}
