package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClLinearTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(23);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    private void check(String what, Tensor x, Tensor weight, Tensor bias, Tensor dx, Tensor dw, Tensor db) {
        Float64Reference.Result ref = Float64Reference.linear(x, weight, bias);
        Closeness.assertWithin(what, ref.shape(), ref.value(), ref.bound(), cl.download(cl.linear(dx, dw, db)));
    }

    private void check(String what, Tensor x, Tensor weight, Tensor bias) {
        check(what, x, weight, bias, cl.upload(x), cl.upload(weight), bias == null ? null : cl.upload(bias));
    }

    @Test
    void addsBiasAndFlattensLeadingDimensions() {
        int[][] kn = {{1, 1}, {17, 13}, {70, 65}, {16, 3}, {5, 130}};
        for (int[] s : kn) {
            int k = s[0];
            int n = s[1];
            check("linear K=" + k + " N=" + n, random.signed(2, 3, k), random.signed(n, k), random.signed(n));
            check("linear K=" + k + " N=" + n + " no bias", random.signed(1, 7, k), random.signed(n, k), null);
        }
        check("linear of a vector", random.signed(9), random.signed(4, 9), random.signed(4));
    }

    @Test
    void widensHalfPrecisionWeightsInTheKernel() {
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            Tensor weight = Tensor.zeros(dtype, 37, 29);
            Tensor bias = Tensor.zeros(dtype, 37);
            Tensor w32 = random.signed(37, 29);
            Tensor b32 = random.signed(37);
            for (int n = 0; n < 37; n++) {
                for (int k = 0; k < 29; k++) {
                    weight.setFloat(w32.getFloat(n, k), n, k);
                }
                bias.setFloat(b32.getFloat(n), n);
            }
            Tensor dw = cl.upload(weight);
            assertEquals(dtype, dw.dtype(), "weights keep their stored dtype on the device");
            assertEquals(2L * 37 * 29, dw.storage().byteSize());
            Tensor x = random.signed(3, 29);
            // The reference reads the half weights widened exactly, as the kernel must.
            check("linear with " + dtype + " weight", x, weight, bias, cl.upload(x), dw, cl.upload(bias));
            check("linear with host " + dtype + " weight", x, weight, null, cl.upload(x), weight, null);
        }
    }

    @Test
    void readsStridedInputsAndWeights() {
        // Leading dimensions that cannot be flattened without a copy, a transposed weight view and
        // a bias that starts inside its buffer.
        Tensor x = random.signed(3, 4, 21);
        Tensor w = random.signed(21, 6);
        Tensor b = random.signed(12);
        check("strided x, transposed weight, narrowed bias", x.transpose(0, 1), w.transpose(0, 1), b.narrow(0, 5, 6),
                cl.upload(x).transpose(0, 1), cl.upload(w).transpose(0, 1), cl.upload(b).narrow(0, 5, 6));
        // K read through a column stride.
        Tensor xt = random.signed(21, 5);
        Tensor w2 = random.signed(7, 21);
        check("column-strided x", xt.transpose(0, 1), w2, null, cl.upload(xt).transpose(0, 1), cl.upload(w2), null);
    }

    @Test
    void rejectsMismatchedShapesNamingThem() {
        Tensor x = cl.upload(random.signed(2, 5));
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
                () -> cl.linear(x, cl.upload(random.signed(3, 4)), null));
        assertTrue(k.getMessage().contains("linear") && k.getMessage().contains("[2, 5]")
                && k.getMessage().contains("[3, 4]"), k.getMessage());
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> cl.linear(x, cl.upload(random.signed(3, 5)), cl.upload(random.signed(4))));
        assertTrue(bias.getMessage().contains("linear") && bias.getMessage().contains("[4]"), bias.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cl.linear(x, cl.upload(random.signed(5)), null));
    }
}
