package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClSoftmaxTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(3);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    private void check(String what, Tensor host, Tensor device) {
        Float64Reference.Result ref = Float64Reference.softmax(host);
        Closeness.assertWithin(what, ref.shape(), ref.value(), ref.bound(), cl.download(cl.softmax(device)));
    }

    @Test
    void matchesFloat64ForRowLengthsAroundTheWorkGroupSize() {
        for (int len : new int[] {1, 2, 7, 64, 129, 1000}) {
            Tensor x = random.uniform(-4f, 4f, 2, 3, len);
            check("softmax L=" + len, x, cl.upload(x));
        }
    }

    @Test
    void readsStridedViews() {
        Tensor x = random.uniform(-4f, 4f, 2, 37, 5);
        check("softmax of a transposed view", x.transpose(1, 2), cl.upload(x).transpose(1, 2));
    }

    @Test
    void largeLogitsDoNotOverflowAndMaskedEntriesVanish() {
        Tensor x = random.uniform(1000f, 1010f, 4, 33);
        check("softmax of logits near 1000", x, cl.upload(x));
        Tensor masked = random.uniform(-2f, 2f, 3, 10);
        for (int j = 0; j < 10; j += 3) {
            masked.setFloat(Float.NEGATIVE_INFINITY, 1, j);
        }
        check("softmax with -inf entries", masked, cl.upload(masked));
        Tensor p = cl.download(cl.softmax(cl.upload(masked)));
        assertEquals(0f, p.getFloat(1, 3), "a -inf logit has probability exactly 0");
    }

    @Test
    void rejectsScalars() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cl.softmax(cl.upload(Tensor.of(new float[] {1f}))));
        assertTrue(e.getMessage().contains("softmax"), e.getMessage());
    }
}
