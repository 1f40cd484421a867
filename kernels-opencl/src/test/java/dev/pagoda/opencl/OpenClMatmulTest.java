package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClMatmulTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(11);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    private void check(String what, Tensor a, Tensor b) {
        Float64Reference.Result ref = Float64Reference.matmul(a, b);
        Tensor out = cl.matmul(cl.upload(a), cl.upload(b));
        assertSame(cl, out.backend(), "result stays on the device");
        Closeness.assertWithin(what, ref.shape(), ref.value(), ref.bound(), cl.download(out));
    }

    @Test
    void matchesFloat64OnAwkwardSizes() {
        // 1, primes, sizes straddling the 64-wide output tile and the 16-deep K slab.
        int[][] mkn = {{1, 1, 1}, {1, 7, 1}, {3, 5, 2}, {17, 31, 13}, {65, 67, 70}, {1, 129, 3}, {64, 16, 64},
                {2, 1, 97}};
        for (int[] s : mkn) {
            check("matmul " + s[0] + "x" + s[1] + "x" + s[2], random.signed(s[0], s[1]), random.signed(s[1], s[2]));
        }
    }

    @Test
    void broadcastsBatchDimensions() {
        check("[2,1,5,7] @ [3,7,4]", random.signed(2, 1, 5, 7), random.signed(3, 7, 4));
        check("[3,5,7] @ [7,4]", random.signed(3, 5, 7), random.signed(7, 4));
        check("[2,9,33] @ [2,33,6]", random.signed(2, 9, 33), random.signed(2, 33, 6));
        check("[1,4,3] @ [5,3,2]", random.signed(1, 4, 3), random.signed(5, 3, 2));
    }

    @Test
    void readsDeviceViewsInPlace() {
        Tensor a = random.signed(2, 19, 23);
        Tensor b = random.signed(2, 19, 11);
        // aᵀ @ b through a transposed device view, and a narrowed one.
        Tensor da = cl.upload(a).transpose(1, 2);
        Tensor db = cl.upload(b);
        assertTrue(!da.isContiguous());
        Float64Reference.Result ref = Float64Reference.matmul(a.transpose(1, 2), b);
        Closeness.assertWithin("aᵀ @ b", ref.shape(), ref.value(), ref.bound(), cl.download(cl.matmul(da, db)));

        Tensor narrowed = cl.upload(a).narrow(2, 3, 19);
        ref = Float64Reference.matmul(a.narrow(2, 3, 19), b);
        Closeness.assertWithin("narrowed a @ b", ref.shape(), ref.value(), ref.bound(),
                cl.download(cl.matmul(narrowed, db)));
    }

    @Test
    void acceptsStridedHostViews() {
        Tensor a = random.signed(13, 6).transpose(0, 1);
        Tensor b = random.signed(5, 13).transpose(0, 1).narrow(1, 1, 4);
        Float64Reference.Result ref = Float64Reference.matmul(a, b);
        Closeness.assertWithin("host views", ref.shape(), ref.value(), ref.bound(), cl.download(cl.matmul(a, b)));
    }

    @Test
    void rejectsMismatchedShapesNamingThem() {
        Tensor a = cl.upload(random.signed(2, 3, 4));
        IllegalArgumentException inner = assertThrows(IllegalArgumentException.class,
                () -> cl.matmul(a, cl.upload(random.signed(5, 6))));
        assertTrue(inner.getMessage().contains("matmul") && inner.getMessage().contains("[2, 3, 4]")
                && inner.getMessage().contains("[5, 6]"), inner.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> cl.matmul(a, cl.upload(random.signed(3, 4, 2))));
        assertTrue(batch.getMessage().contains("matmul") && batch.getMessage().contains("[3, 4, 2]"),
                batch.getMessage());
        IllegalArgumentException vector = assertThrows(IllegalArgumentException.class,
                () -> cl.matmul(a, cl.upload(random.signed(4))));
        assertTrue(vector.getMessage().contains("matmul"), vector.getMessage());
    }

    @Test
    void emptyDimensionsGiveEmptyOrZeroResults() {
        Tensor out = cl.download(cl.matmul(cl.upload(random.signed(3, 0)), cl.upload(random.signed(0, 2))));
        assertEquals(6, out.numel());
        for (float v : out.toFloatArray()) {
            assertEquals(0f, v);
        }
        assertEquals(0, cl.matmul(cl.upload(random.signed(0, 4)), cl.upload(random.signed(4, 2))).numel());
    }
}
