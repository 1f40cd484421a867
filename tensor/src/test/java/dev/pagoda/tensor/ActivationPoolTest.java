package dev.pagoda.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Tensor#release()} and {@link Tensor#uninitialized}: what is reused, what is refused afterwards. */
class ActivationPoolTest {

    /** A length the pool takes: above its minimum, and odd so no other test's arrays match it. */
    private static final int N = ActivationPool.MIN_LENGTH + 37;

    @BeforeEach
    void emptyPool() {
        ActivationPool.clear();
    }

    @Test
    void theTestRunsPoisonArraysSoUnwrittenOutputsShowAsNaN() {
        assertTrue(ActivationPool.POISON, "the build runs tests with -Dpagoda.tensor.poison=true");
        float[] fresh = Tensor.uninitialized(3, N).array();
        for (float v : fresh) {
            assertTrue(Float.isNaN(v));
        }
        Tensor t = Tensor.uninitialized(N);
        float[] a = t.array();
        java.util.Arrays.fill(a, 1f);
        t.release();
        float[] again = Tensor.uninitialized(N).array();
        assertSame(a, again);
        for (float v : again) {
            assertTrue(Float.isNaN(v), "a released array comes back poisoned");
        }
    }

    @Test
    void aReleasedArrayIsTheNextOutputOfItsLength() {
        Tensor t = Tensor.uninitialized(N);
        float[] a = t.array();
        t.release();
        assertEquals(4L * N, ActivationPool.heldBytes());
        assertNotSame(a, Tensor.uninitialized(N + 1).array(), "lengths must match exactly");
        Tensor u = Tensor.uninitialized(1, N);
        assertSame(a, u.array());
        assertEquals(0, ActivationPool.heldBytes());
        assertNotSame(a, Tensor.uninitialized(N).array(), "an array is handed out once");
    }

    @Test
    void zerosAreReleasableButNeverComeFromThePool() {
        Tensor t = Tensor.uninitialized(N);
        float[] a = t.array();
        t.release();
        Tensor z = Tensor.zeros(N);
        assertNotSame(a, z.array());
        assertEquals(0f, z.array()[N - 1]);
        float[] b = z.array();
        z.release();
        Tensor u = Tensor.uninitialized(N);
        assertSame(b, u.array(), "newest first");
        assertSame(a, Tensor.uninitialized(N).array());
    }

    @Test
    void usingAReleasedTensorOrItsViewsThrows() {
        Tensor t = Tensor.uninitialized(2, N);
        Tensor view = t.reshape(N, 2);
        Tensor row = t.narrow(0, 1, 1);
        t.release();
        t.release(); // a second release is harmless
        view.release();
        assertEquals(4L * 2 * N, ActivationPool.heldBytes(), "given back once");
        IllegalStateException e = assertThrows(IllegalStateException.class, t::array);
        assertTrue(e.getMessage().contains("release"), e.getMessage());
        assertThrows(IllegalStateException.class, view::array);
        assertThrows(IllegalStateException.class, () -> row.getFloat(0, 0));
        assertThrows(IllegalStateException.class, () -> Backend.cpu().add(view, view));
        assertThrows(IllegalStateException.class, () -> t.setFloat(1f, 0, 0));
    }

    @Test
    void onlyAWholeArrayTheLayerAllocatedGoesBack() {
        float[] mine = new float[N];
        Tensor wrapped = Tensor.of(mine, N);
        wrapped.release();
        assertSame(mine, wrapped.array(), "a caller's array stays the caller's");
        assertEquals(0, ActivationPool.heldBytes());

        Tensor t = Tensor.uninitialized(2, N);
        Tensor part = t.narrow(0, 0, 1);
        part.release();
        assertEquals(0, ActivationPool.heldBytes());
        t.array()[0] = 5f; // still usable
        assertEquals(5f, part.getFloat(0, 0));

        Tensor small = Tensor.uninitialized(ActivationPool.MIN_LENGTH - 1);
        small.release();
        assertEquals(0, ActivationPool.heldBytes(), "small arrays are cheaper to allocate than to pool");
        assertThrows(IllegalStateException.class, small::array, "but are refused after release all the same");
    }

    @Test
    void thePoolKeepsABoundedNumberOfArrays() {
        Tensor[] live = new Tensor[ActivationPool.MAX_ENTRIES + 10];
        for (int i = 0; i < live.length; i++) {
            live[i] = Tensor.uninitialized(N);
        }
        for (Tensor t : live) {
            t.release();
        }
        assertEquals(4L * N * ActivationPool.MAX_ENTRIES, ActivationPool.heldBytes());
    }

    @Test
    void kernelOutputsComeFromThePool() {
        Tensor x = Tensor.uninitialized(N);
        java.util.Arrays.fill(x.array(), 2f);
        Tensor y = Backend.cpu().add(x, x);
        float[] a = y.array();
        y.release();
        Tensor z = Backend.cpu().add(x, x);
        assertSame(a, z.array());
        assertEquals(4f, z.array()[N - 1]);
    }
}
