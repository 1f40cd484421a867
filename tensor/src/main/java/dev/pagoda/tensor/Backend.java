package dev.pagoda.tensor;

import dev.pagoda.tensor.cpu.CpuBackend;

/**
 * Every operation the models need. The CPU backend implements all of it; other devices (OpenCL)
 * implement the same interface and are found through {@link BackendProvider}. Model code calls the
 * backend of its tensors ({@link Tensor#backend()}) and never asks which device runs it.
 *
 * <p>Conventions: activations are F32; weights may be F32, F16 or BF16 and are widened inside the
 * kernel (never copied whole to F32). Images and latents are NCHW. Inputs may be strided views;
 * outputs are new contiguous tensors. Shape errors are {@link IllegalArgumentException}s naming the
 * operation and the shapes involved.
 */
public interface Backend {

    /**
     * The CPU backend (SIMD kernels on the shared thread pool); with {@code -Dpagoda.profile=true},
     * the same behind {@link dev.pagoda.tensor.cpu.OpProfile}'s timing decorator.
     */
    static Backend cpu() {
        return CpuBackend.ACTIVE;
    }

    String name();

    // ---------------------------------------------------------------- residence

    /**
     * {@code x} held where this backend's kernels read it directly, in its stored dtype (half
     * weights stay half): for a device backend an upload, done once when a module is moved there;
     * for the CPU a host copy of a device tensor. A tensor already resident is returned as it is.
     */
    default Tensor resident(Tensor x) {
        return x.backend() == this ? x : x.backend().toHost(x);
    }

    /**
     * A host tensor with the values of {@code x} (a tensor of this backend): contiguous F32 for
     * floating dtypes, the same dtype for integers. Host backends return {@code x} itself.
     */
    default Tensor toHost(Tensor x) {
        return x;
    }

    /**
     * Device memory available for tensors, in bytes ({@link Long#MAX_VALUE} for host backends):
     * a pipeline checks its weights against it before moving them.
     */
    default long deviceMemoryBytes() {
        return Long.MAX_VALUE;
    }

    /** The most device memory this backend has held at once, in bytes; 0 where it is not tracked. */
    default long peakDeviceBytes() {
        return 0;
    }

    // ---------------------------------------------------------------- products

    /** {@code a[..., M, K] @ b[..., K, N]}; leading (batch) dimensions broadcast. */
    Tensor matmul(Tensor a, Tensor b);

    /** {@code x[..., K] · weight[N, K]ᵀ + bias[N]} (bias may be null), as torch's {@code F.linear}. */
    Tensor linear(Tensor x, Tensor weight, Tensor bias);

    /**
     * 2-D convolution of {@code x[N, Cin, H, W]} with {@code weight[Cout, Cin/groups, kh, kw]} and
     * optional {@code bias[Cout]}; zero padding on every side; output {@code [N, Cout, H', W']}.
     */
    Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups);

    // ---------------------------------------------------------------- normalisation

    /** Group norm over {@code x[N, C, ...]} with per-channel affine, optionally followed by SiLU. */
    Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu);

    /** Layer norm over the last dimension; gamma and beta may be null. */
    Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps);

    /** T5-style RMS norm over the last dimension: {@code x / sqrt(mean(x²) + eps) * gamma}. */
    Tensor rmsNorm(Tensor x, Tensor gamma, float eps);

    /** Softmax over the last dimension. */
    Tensor softmax(Tensor x);

    // ---------------------------------------------------------------- attention

    /**
     * Multi-head scaled-dot-product attention, {@code softmax(q·kᵀ·scale + mask)·v} per head, without
     * materialising the full score matrix for long sequences.
     *
     * @param q            {@code [B, Lq, heads·D]}
     * @param k            {@code [B, Lk, heads·D]}
     * @param v            {@code [B, Lk, heads·Dv]}
     * @param mask         additive mask broadcastable to {@code [B, heads, Lq, Lk]}, or null
     * @param identityRows null, or one flag per batch row: a flagged row returns its {@code v}
     *                     unchanged (the attention map replaced by the identity, used by PAG;
     *                     requires {@code Lq == Lk}); its q and k are not read
     * @return {@code [B, Lq, heads·Dv]}
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean[] identityRows);

    // ---------------------------------------------------------------- activations

    /** GELU: exact (erf) form, or the tanh approximation when {@code tanh} is true. */
    Tensor gelu(Tensor x, boolean tanh);

    /** {@code x·sigmoid(1.702·x)} (OpenAI CLIP). */
    Tensor quickGelu(Tensor x);

    Tensor silu(Tensor x);

    /** {@code x[..., 2F]} → {@code x[..., :F] · gelu(x[..., F:])} (diffusers' GEGLU after its projection). */
    Tensor geglu(Tensor x);

    Tensor exp(Tensor x);

    Tensor clamp(Tensor x, float min, float max);

    // ---------------------------------------------------------------- elementwise, numpy broadcasting

    Tensor add(Tensor a, Tensor b);

    Tensor sub(Tensor a, Tensor b);

    Tensor mul(Tensor a, Tensor b);

    Tensor div(Tensor a, Tensor b);

    /** {@code x·mul + add}. */
    Tensor affine(Tensor x, float mul, float add);

    /** {@code α·x + β·y} (same shape or broadcasting). */
    Tensor axpby(float alpha, Tensor x, float beta, Tensor y);

    // ---------------------------------------------------------------- data movement

    /** A contiguous copy of {@code x} converted to {@code dtype} (round to nearest even when narrowing). */
    Tensor copy(Tensor x, DType dtype);

    /** Concatenation along {@code dim}; all other dimensions must agree. */
    Tensor concat(int dim, Tensor... xs);

    /** Nearest-neighbour ×2 upsampling of {@code x[N, C, H, W]}. */
    Tensor upsampleNearest2x(Tensor x);

    /** Rows of {@code table[V, D]} (any float dtype) for integer {@code ids[...]} → {@code [..., D]}. */
    Tensor embedding(Tensor table, Tensor ids);

    /**
     * diffusers' {@code get_timestep_embedding}: sinusoidal embedding of {@code timesteps[N]} into
     * {@code [N, dim]}; exponent {@code -ln(maxPeriod)·i/(half - downscaleFreqShift)}, sin then cos (or
     * cos then sin when {@code flipSinToCos}), zero-padded when dim is odd.
     */
    Tensor timestepEmbedding(Tensor timesteps, int dim, boolean flipSinToCos, float downscaleFreqShift,
            float scale, int maxPeriod);
}
