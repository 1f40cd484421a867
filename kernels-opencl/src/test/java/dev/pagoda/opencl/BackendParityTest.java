package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every operation of the Backend SPI on the OpenCL device against the CPU backend, in the manner
 * of ggml's test-backend-ops: random inputs of awkward sizes (odd, prime, not multiples of any
 * tile), half-precision weights, strided views, and the options each op has (stride, padding,
 * groups, SiLU, PAG identity rows, masks). The device result must be a device tensor and agree
 * with the CPU to {@code tol} relative to the largest magnitude of the CPU result, and no case
 * may take a host fallback. {@link #COVERED} lists the ops; README's op table is checked against
 * it by {@link OpCoverageTableTest}.
 */
class BackendParityTest {

    /** The SPI operations this suite exercises, by their Backend method names. */
    static final List<String> COVERED = List.of("matmul", "linear", "conv2d", "groupNorm", "layerNorm", "rmsNorm",
            "softmax", "attention", "gelu", "quickGelu", "silu", "geglu", "exp", "clamp", "add", "sub", "mul", "div",
            "affine", "axpby", "copy", "concat", "upsampleNearest2x", "embedding", "timestepEmbedding");

    private OpenClBackend cl;

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    /** One case: a name, the op applied to any backend, the inputs, and the relative bound. */
    record Case(String name, Function<Backend, Tensor> op, double tol) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final RandomTensors R = new RandomTensors(20261206);

    private static Tensor half(Tensor x, DType dtype) {
        return Backend.cpu().copy(x, dtype);
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        for (DType wt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Tensor a = R.signed(3, 37, 45);
            Tensor w = half(R.signed(29, 45), wt);
            Tensor bias = R.signed(29);
            c.add(new Case("linear " + wt, be -> be.linear(a, w, bias), 1e-5));
            Tensor b = half(R.signed(3, 45, 19), wt);
            c.add(new Case("matmul " + wt, be -> be.matmul(a, b), 1e-5));
            for (int[] cfg : new int[][] {{3, 1, 1, 1}, {3, 2, 1, 1}, {1, 1, 0, 1}, {3, 1, 1, 3}, {4, 2, 0, 1}}) {
                int k = cfg[0];
                int stride = cfg[1];
                int pad = cfg[2];
                int groups = cfg[3];
                Tensor x = R.signed(2, 9, 13, 11);
                Tensor cw = half(R.signed(12, 9 / groups, k, k), wt);
                Tensor cb = R.signed(12);
                c.add(new Case("conv2d " + wt + " k" + k + " s" + stride + " p" + pad + " g" + groups,
                        be -> be.conv2d(x, cw, cb, stride, pad, groups), 1e-5));
            }
            Tensor table = half(R.signed(50, 23), wt);
            Tensor ids = Tensor.ofLongs(new long[] {0, 49, 7, 7, 31, 2}, 2, 3);
            c.add(new Case("embedding " + wt, be -> be.embedding(table, ids), 0));
        }
        Tensor xc = R.signed(2, 9, 13, 11);
        Tensor noBias = R.signed(12, 9, 3, 3);
        c.add(new Case("conv2d no bias, strided input", be -> be.conv2d(xc.transpose(2, 3), noBias, null, 1, 1, 1), 1e-5));

        Tensor gx = R.uniform(-2f, 3f, 2, 12, 7, 5);
        Tensor gamma = R.signed(12);
        Tensor beta = R.signed(12);
        c.add(new Case("groupNorm", be -> be.groupNorm(gx, 4, gamma, beta, 1e-5f, false), 1e-5));
        c.add(new Case("groupNorm silu", be -> be.groupNorm(gx, 3, gamma, beta, 1e-6f, true), 1e-5));
        Tensor lx = R.uniform(-1f, 4f, 3, 5, 77);
        Tensor lg = R.signed(77);
        Tensor lb = R.signed(77);
        c.add(new Case("layerNorm", be -> be.layerNorm(lx, lg, lb, 1e-5f), 1e-5));
        c.add(new Case("layerNorm no affine", be -> be.layerNorm(lx, null, null, 1e-6f), 1e-5));
        c.add(new Case("layerNorm half gamma", be -> be.layerNorm(lx, half(lg, DType.F16), lb, 1e-5f), 1e-5));
        c.add(new Case("rmsNorm", be -> be.rmsNorm(lx, lg, 1e-6f), 1e-5));
        c.add(new Case("softmax", be -> be.softmax(lx), 1e-6));
        // Half-precision activations are widened on the way in.
        Tensor gh = half(gx, DType.F16);
        c.add(new Case("groupNorm F16 input", be -> be.groupNorm(gh, 4, gamma, half(beta, DType.BF16), 1e-5f, true), 1e-5));
        Tensor lh = half(lx, DType.BF16);
        c.add(new Case("layerNorm BF16 input", be -> be.layerNorm(lh, lg, lb, 1e-5f), 1e-5));
        c.add(new Case("rmsNorm F16 gamma", be -> be.rmsNorm(lh, half(lg, DType.F16), 1e-6f), 1e-5));
        c.add(new Case("softmax BF16 input", be -> be.softmax(lh), 1e-6));
        c.add(new Case("silu F16 input", be -> be.silu(half(lx, DType.F16)), 1e-6));

        Tensor q = R.signed(3, 37, 2 * 24);
        Tensor k = R.signed(3, 37, 2 * 24);
        Tensor v = R.signed(3, 37, 2 * 20);
        float scale = (float) (1 / Math.sqrt(24));
        c.add(new Case("attention self", be -> be.attention(q, k, v, 2, scale, null, null), 1e-5));
        c.add(new Case("attention PAG identity row", be -> be.attention(q, k, v, 2, scale, null,
                new boolean[] {false, true, false}), 1e-5));
        Tensor kc = R.signed(3, 11, 2 * 24);
        Tensor vc = R.signed(3, 11, 2 * 20);
        c.add(new Case("attention cross", be -> be.attention(q, kc, vc, 2, scale, null, null), 1e-5));
        Tensor mask = R.uniform(-3f, 0f, 3, 1, 1, 11);
        mask.setFloat(Float.NEGATIVE_INFINITY, 0, 0, 0, 4);
        c.add(new Case("attention mask", be -> be.attention(q, kc, vc, 2, scale, mask, null), 1e-5));
        Tensor causal = Tensor.zeros(37, 37);
        for (int i = 0; i < 37; i++) {
            for (int j = i + 1; j < 37; j++) {
                causal.setFloat(Float.NEGATIVE_INFINITY, i, j);
            }
        }
        c.add(new Case("attention causal mask", be -> be.attention(q, k, v, 2, scale, causal, null), 1e-5));
        Tensor qkv = R.signed(2, 19, 3 * 72);
        c.add(new Case("attention narrow views of qkv", be -> be.attention(qkv.narrow(2, 0, 72),
                qkv.narrow(2, 72, 72), qkv.narrow(2, 144, 72), 1, 0.1f, null, null), 1e-5));
        Tensor qh = half(q, DType.F16);
        c.add(new Case("attention F16 q, BF16 v", be -> be.attention(qh, k, half(v, DType.BF16), 2, scale, null,
                new boolean[] {true, false, false}), 1e-5));
        Tensor wide = R.signed(1, 9, 130);
        c.add(new Case("attention one head wider than a pass", be -> be.attention(wide, wide, wide, 1, 0.05f, null,
                null), 1e-5));

        Tensor ex = R.uniform(-6f, 6f, 5, 33);
        c.add(new Case("gelu erf", be -> be.gelu(ex, false), 1e-6));
        c.add(new Case("gelu tanh", be -> be.gelu(ex, true), 1e-6));
        c.add(new Case("quickGelu", be -> be.quickGelu(ex), 1e-6));
        c.add(new Case("silu", be -> be.silu(ex), 1e-6));
        c.add(new Case("exp", be -> be.exp(ex), 1e-6));
        c.add(new Case("clamp", be -> be.clamp(ex, -1f, 2f), 0));
        c.add(new Case("affine", be -> be.affine(ex, 0.3f, -1f), 1e-7));
        Tensor gg = R.signed(2, 7, 2 * 13);
        c.add(new Case("geglu", be -> be.geglu(gg), 1e-6));
        c.add(new Case("geglu of a view", be -> be.geglu(gg.transpose(0, 1)), 1e-6));
        Tensor ea = R.signed(4, 1, 33);
        Tensor eb = R.awayFromZero(5, 33);
        c.add(new Case("add broadcast", be -> be.add(ea, eb), 1e-7));
        c.add(new Case("sub broadcast", be -> be.sub(eb, ea), 1e-7));
        c.add(new Case("mul broadcast", be -> be.mul(ea, eb), 1e-7));
        c.add(new Case("div broadcast", be -> be.div(ea, eb), 1e-7));
        c.add(new Case("axpby", be -> be.axpby(0.7f, eb, -1.3f, ea), 1e-7));

        Tensor cx = R.signed(2, 3, 5, 7);
        c.add(new Case("copy F16 of a view", be -> be.copy(cx.permute(0, 2, 3, 1), DType.F16), 0));
        c.add(new Case("copy BF16 to F32", be -> be.copy(half(cx, DType.BF16).transpose(1, 3), DType.F32), 0));
        Tensor c1 = R.signed(2, 3, 5, 7);
        Tensor c2 = R.signed(2, 4, 5, 7);
        c.add(new Case("concat channels", be -> be.concat(1, c1, c2), 0));
        c.add(new Case("concat batch, strided", be -> be.concat(0, c1, c1.narrow(0, 1, 1)), 0));
        c.add(new Case("concat last dim mixed dtypes", be -> be.concat(-1, c1, half(c1, DType.F16)), 0));
        c.add(new Case("upsampleNearest2x", be -> be.upsampleNearest2x(cx), 0));
        c.add(new Case("upsampleNearest2x of a view", be -> be.upsampleNearest2x(cx.transpose(2, 3)), 0));
        Tensor ts = Tensor.of(new float[] {999f, 0f, 421.5f}, 3);
        c.add(new Case("timestepEmbedding", be -> be.timestepEmbedding(ts, 320, true, 0f, 1f, 10000), 1e-6));
        c.add(new Case("timestepEmbedding odd", be -> be.timestepEmbedding(ts, 33, false, 1f, 2f, 10000), 1e-6));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheCpuBackend(Case c) {
        Tensor expected = c.op().apply(Backend.cpu());
        cl.counters().resetOperations();
        Tensor got = c.op().apply(cl);
        assertSame(cl, got.backend(), c.name() + ": the result stays on the device");
        assertEquals(Map.of(), cl.counters().fallbacks(), c.name() + ": no host fallback");
        assertEquals(expected.dtype(), got.dtype(), c.name() + ": dtype");
        assertArrayEquals(expected.shape(), got.shape(), c.name() + ": shape");
        float[] e = expected.to(DType.F32).toFloatArray();
        float[] g = cl.download(got).toFloatArray();
        double scale = 0;
        for (float f : e) {
            if (Float.isFinite(f)) {
                scale = Math.max(scale, Math.abs(f));
            }
        }
        double bound = c.tol() * Math.max(scale, 1e-30);
        for (int i = 0; i < e.length; i++) {
            boolean same = Float.compare(e[i], g[i]) == 0 || Math.abs(e[i] - g[i]) <= bound;
            if (!same) {
                fail(String.format("%s: element %d of %s is %s on OpenCL, %s on the CPU (bound %.3g)", c.name(), i,
                        Shapes.str(expected.shape()), g[i], e[i], bound));
            }
        }
    }
}
