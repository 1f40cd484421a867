package dev.pagoda.nn.unet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code Downsample2D} with a convolution: 3×3, stride 2. The UNet pads 1 on every side;
 * the VAE encoder pads 0 and instead pads right and bottom by one ({@code F.pad(x, (0, 1, 0, 1))}).
 */
public final class Downsample2D extends Module {

    private final Conv2d conv;
    private final int padding;

    public Downsample2D(int channels, int padding) {
        this.padding = padding;
        this.conv = child("conv", new Conv2d(channels, channels, 3, 2, padding));
    }

    public Tensor forward(Tensor x) {
        if (padding == 0) {
            x = PadRightBottom.pad(x);
        }
        return conv.forward(x);
    }

    /** Zero padding of one row at the bottom and one column at the right. */
    static final class PadRightBottom {
        private PadRightBottom() {
        }

        static Tensor pad(Tensor x) {
            if (x.backend() != dev.pagoda.tensor.Backend.cpu()) {
                return padOnBackend(x);
            }
            int[] s = x.shape();
            Tensor src = x.contiguous().to(dev.pagoda.tensor.DType.F32);
            Tensor out = Tensor.zeros(s[0], s[1], s[2] + 1, s[3] + 1);
            float[] a = src.array();
            int ao = (int) src.offset();
            float[] o = out.array();
            int planes = s[0] * s[1];
            int h = s[2];
            int w = s[3];
            for (int p = 0; p < planes; p++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(a, ao + (p * h + y) * w, o, (p * (h + 1) + y) * (w + 1), w);
                }
            }
            return out;
        }

        /** The same padding from backend ops: zero rows and columns made as x·0 (activations are finite), then concat. */
        private static Tensor padOnBackend(Tensor x) {
            var be = x.backend();
            Tensor withRow = be.concat(2, x, be.affine(x.narrow(2, 0, 1), 0f, 0f));
            return be.concat(3, withRow, be.affine(withRow.narrow(3, 0, 1), 0f, 0f));
        }
    }
}
