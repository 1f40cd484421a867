package dev.pagoda.opencl;

import static dev.pagoda.opencl.Closeness.U;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import dev.pagoda.tensor.Tensor;

import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClActivationTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(7);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    private void check(String op, UnaryOperator<Tensor> device, DoubleUnaryOperator exact, Float64Reference.Bound bound) {
        Tensor x = random.uniform(-6f, 6f, 3, 37);
        Float64Reference.Result ref = Float64Reference.unary(x, exact, bound);
        Closeness.assertWithin(op, ref.shape(), ref.value(), ref.bound(), cl.download(device.apply(cl.upload(x))));
        // the same values through a transposed device view
        Tensor xt = random.uniform(-6f, 6f, 37, 3);
        ref = Float64Reference.unary(xt.transpose(0, 1), exact, bound);
        Closeness.assertWithin(op + " of a view", ref.shape(), ref.value(), ref.bound(),
                cl.download(device.apply(cl.upload(xt).transpose(0, 1))));
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    @Test
    void siluAndQuickGeluMatchTheirDefinitions() {
        // exp (3 ulp), the add and the division: within 8 ulp of the result. quickGelu also rounds
        // 1.702·x (and 1.702 itself) to float, an error exp amplifies by |1.702·x|.
        check("silu", cl::silu, x -> x * sigmoid(x), (x, y, e) -> 8 * U * Math.abs(e));
        check("quickGelu", cl::quickGelu, x -> x * sigmoid(1.702 * x),
                (x, y, e) -> (8 + 2 * Math.abs(1.702 * x)) * U * Math.abs(e));
    }

    @Test
    void geluErfAndTanhFormsMatchTheirDefinitions() {
        // erf may be 16 ulp off (OpenCL spec); 1 + erf cancels for negative x, so the bound is
        // relative to |x| rather than to the result.
        check("gelu", x -> cl.gelu(x, false), x -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))),
                (x, y, e) -> 20 * U * (Math.abs(x) + Math.abs(e)));
        check("gelu tanh", x -> cl.gelu(x, true),
                x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
                (x, y, e) -> {
                    double z = Math.abs(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x));
                    return 8 * U * (1 + z) * (Math.abs(x) + Math.abs(e));
                });
    }

    @Test
    void expAndClamp() {
        check("exp", cl::exp, Math::exp, (x, y, e) -> 4 * U * e);
        check("clamp", x -> cl.clamp(x, -1.5f, 2.25f), x -> Math.min(2.25, Math.max(-1.5, x)), (x, y, e) -> 0);
        Tensor special = Tensor.of(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}, 3);
        float[] clamped = cl.download(cl.clamp(cl.upload(special), -1f, 1f)).toFloatArray();
        assertTrue(Float.isNaN(clamped[0]), "clamp passes NaN through, as torch does");
        assertEquals(-1f, clamped[1]);
        assertEquals(1f, clamped[2]);
    }
}
