package dev.pagoda.opencl;

import static dev.pagoda.opencl.Closeness.U;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClElementwiseTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(5);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    /** Shape pairs covering numpy broadcasting: trailing, middle, leading, both sides, equal. */
    private static final int[][][] PAIRS = {
        {{5, 7}, {7}},
        {{3, 1, 4}, {1, 6, 1}},
        {{1}, {2, 3}},
        {{13}, {13}},
        {{2, 3, 1, 5}, {3, 7, 1}},
        {{2, 1, 3, 1, 2, 1, 3, 1, 2}, {2, 1, 3, 1, 2, 1, 3, 2, 1}},
        {{4, 1}, {}},
    };

    private void checkBinary(String op, BinaryOperator<Tensor> device, DoubleBinaryOperator exact,
            Float64Reference.Bound bound, boolean divisor) {
        for (int[][] pair : PAIRS) {
            Tensor a = random.signed(pair[0]);
            Tensor b = divisor ? random.awayFromZero(pair[1]) : random.signed(pair[1]);
            Float64Reference.Result ref = Float64Reference.binary(a, b, exact, bound);
            Tensor out = device.apply(cl.upload(a), cl.upload(b));
            assertSame(cl, out.backend());
            Closeness.assertWithin(op + " " + Shapes.str(pair[0]) + ", " + Shapes.str(pair[1]), ref.shape(),
                    ref.value(), ref.bound(), cl.download(out));
        }
    }

    /** Correctly rounded: within half an ulp, i.e. u·|exact|. */
    private static double rounded(double x, double y, double exact) {
        return U * Math.abs(exact);
    }

    @Test
    void addSubMulDivBroadcastLikeNumpy() {
        checkBinary("add", cl::add, Double::sum, OpenClElementwiseTest::rounded, false);
        checkBinary("sub", cl::sub, (x, y) -> x - y, OpenClElementwiseTest::rounded, false);
        checkBinary("mul", cl::mul, (x, y) -> x * y, OpenClElementwiseTest::rounded, false);
        // Correctly rounded division where the device offers it; OpenCL's default allows 2.5 ulp.
        checkBinary("div", cl::div, (x, y) -> x / y, (x, y, e) -> 3 * U * Math.abs(e), true);
    }

    @Test
    void axpbyAndAffineScaleAndShift() {
        checkBinary("axpby", (x, y) -> cl.axpby(0.75f, x, -1.5f, y), (x, y) -> 0.75 * x - 1.5 * y,
                (x, y, e) -> 2 * U * (Math.abs(0.75 * x) + Math.abs(1.5 * y)), false);
        Tensor x = random.signed(3, 37);
        Float64Reference.Result ref = Float64Reference.unary(x, v -> v * -2.5 + 0.125,
                (v, unused, e) -> 2 * U * (Math.abs(2.5 * v) + 0.125));
        Closeness.assertWithin("affine", ref.shape(), ref.value(), ref.bound(),
                cl.download(cl.affine(cl.upload(x), -2.5f, 0.125f)));
    }

    @Test
    void readsStridedDeviceViewsAndHostOperands() {
        Tensor a = random.signed(6, 11);
        Tensor b = random.signed(11, 6);
        // a device view that is transposed, a host operand that is transposed too
        Tensor da = cl.upload(b).transpose(0, 1);
        Float64Reference.Result ref = Float64Reference.binary(b.transpose(0, 1), a.transpose(0, 1).transpose(0, 1),
                (x, y) -> x * y, OpenClElementwiseTest::rounded);
        Closeness.assertWithin("device view * host view", ref.shape(), ref.value(), ref.bound(),
                cl.download(cl.mul(da, a.transpose(0, 1).transpose(0, 1))));
        // a narrowed, expanded device view
        Tensor row = random.signed(1, 20);
        Tensor dRow = cl.upload(row).narrow(1, 4, 11).expand(6, 11);
        ref = Float64Reference.binary(a, row.narrow(1, 4, 11).expand(6, 11), Double::sum,
                OpenClElementwiseTest::rounded);
        Closeness.assertWithin("a + expanded row", ref.shape(), ref.value(), ref.bound(),
                cl.download(cl.add(cl.upload(a), dRow)));
    }

    @Test
    void widensHalfPrecisionOperands() {
        Tensor a = random.signed(4, 9);
        Tensor h = Tensor.zeros(DType.BF16, 9);
        Tensor hv = random.signed(9);
        for (int i = 0; i < 9; i++) {
            h.setFloat(hv.getFloat(i), i);
        }
        Float64Reference.Result ref = Float64Reference.binary(a, h, Double::sum, OpenClElementwiseTest::rounded);
        Closeness.assertWithin("F32 + BF16", ref.shape(), ref.value(), ref.bound(),
                cl.download(cl.add(cl.upload(a), cl.upload(h))));
    }

    @Test
    void rejectsShapesThatDoNotBroadcast() {
        Tensor a = cl.upload(random.signed(2, 3));
        Tensor b = cl.upload(random.signed(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cl.add(a, b));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[4]"), e.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class, () -> cl.axpby(1, a, 2, b));
        assertTrue(d.getMessage().contains("axpby"), d.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cl.mul(a, Tensor.ofInts(new int[] {1, 2, 3}, 3)));
    }
}
