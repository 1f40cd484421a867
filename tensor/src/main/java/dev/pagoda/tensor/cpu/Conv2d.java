package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * 2-D convolution as an implicit GEMM on {@link PackedGemm}: per image and group, {@code out[Cout/g,
 * H'·W'] = weight[Cout/g, Cin/g·kh·kw] · patches[Cin/g·kh·kw, H'·W']}. The weight (any float dtype,
 * widened while packing) is the A operand; the patches are packed straight from the image by {@link
 * Im2colPanels}, or, for a 1×1 stride-1 unpadded kernel, read as the plain matrix they are.
 */
final class Conv2d {

    private Conv2d() {
    }

    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int groups) {
        return conv2d(MicroKernel.preferred(), x, weight, bias, stride, padding, groups);
    }

    static Tensor conv2d(MicroKernel kernel, Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int groups) {
        Gemm.requireFloat("conv2d", x, "x");
        Gemm.requireFloat("conv2d", weight, "weight");
        if (x.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d: need x[N, Cin, H, W] and weight[Cout, Cin/groups, kh, kw], got "
                    + Shapes.str(x.shape()) + " and " + Shapes.str(weight.shape()));
        }
        if (stride < 1 || padding < 0 || groups < 1) {
            throw new IllegalArgumentException("conv2d: stride " + stride + ", padding " + padding + ", groups "
                    + groups + " (need stride >= 1, padding >= 0, groups >= 1)");
        }
        int batch = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int cout = weight.dim(0);
        int kh = weight.dim(2);
        int kw = weight.dim(3);
        if (cin % groups != 0 || cout % groups != 0 || weight.dim(1) != cin / groups) {
            throw new IllegalArgumentException("conv2d: x of shape " + Shapes.str(x.shape()) + " and weight of shape "
                    + Shapes.str(weight.shape()) + " do not match for groups=" + groups
                    + " (need Cin and Cout divisible by groups, weight.dim(1) == Cin/groups)");
        }
        int ho = (h + 2 * padding - kh) / stride + 1;
        int wo = (w + 2 * padding - kw) / stride + 1;
        if (kh < 1 || kw < 1 || h + 2 * padding < kh || w + 2 * padding < kw) {
            throw new IllegalArgumentException("conv2d: kernel " + kh + "x" + kw + " does not fit input "
                    + Shapes.str(x.shape()) + " with padding " + padding);
        }
        float[] biasValues = null;
        if (bias != null) {
            Gemm.requireFloat("conv2d", bias, "bias");
            if (bias.rank() != 1 || bias.dim(0) != cout) {
                throw new IllegalArgumentException("conv2d: bias of shape " + Shapes.str(bias.shape())
                        + " does not match weight of shape " + Shapes.str(weight.shape()) + " (need [" + cout + "])");
            }
            biasValues = bias.toFloatArray();
        }
        Tensor out = Tensor.uninitialized(batch, cout, ho, wo);
        if (out.numel() == 0) {
            return out;
        }
        int hw = ho * wo;
        float[] c = out.array();
        if (!(x.storage() instanceof FloatArrayStorage) || x.dtype() != DType.F32) {
            x = Tensor.of(x.toFloatArray(), x.shape());
        }
        weight = Gemm.onCpu(weight);
        long[] ws = weight.strides();
        if (kh > 1 && ws[2] != kw * ws[3] || cin / groups > 1 && ws[1] != (long) kh * kw * ws[3]) {
            // the patch dimensions must step with one stride to be the GEMM's K
            weight = weight.contiguous();
            ws = weight.strides();
        }
        int cinG = cin / groups;
        int coutG = cout / groups;
        int k = cinG * kh * kw;
        int batches = batch * groups;
        long[] aOffsets = new long[batches];
        long[] xOffsets = new long[batches];
        int[] cOffsets = new int[batches];
        int[] biasOffsets = new int[batches];
        long[] xs = x.strides();
        for (int n = 0; n < batch; n++) {
            for (int g = 0; g < groups; g++) {
                int b = n * groups + g;
                aOffsets[b] = weight.offset() + (long) g * coutG * ws[0];
                xOffsets[b] = x.offset() + n * xs[0] + (long) g * cinG * xs[1];
                cOffsets[b] = (n * cout + g * coutG) * hw;
                biasOffsets[b] = g * coutG;
            }
        }
        MatrixPanels a = new MatrixPanels(weight, aOffsets, ws[0], ws[3]);
        PanelSource patches;
        if (kh == 1 && kw == 1 && stride == 1 && padding == 0 && (xs[2] == w * xs[3] || h == 1)) {
            patches = new MatrixPanels(x, xOffsets, xs[3], xs[1]);
        } else {
            patches = new Im2colPanels(((FloatArrayStorage) x.storage()).data(), xOffsets, (int) xs[1], (int) xs[2], (int) xs[3], h, w, kh, kw,
                    stride, padding, wo);
        }
        PackedGemm.multiply(kernel, a, patches, batches, coutG, hw, k, c, cOffsets, hw,
                PackedGemm.Bias.rows(biasValues, biasOffsets), false);
        return out;
    }
}
