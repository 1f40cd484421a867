package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenClStorageTest {

    private OpenClBackend cl;
    private final RandomTensors random = new RandomTensors(17);

    @BeforeEach
    void device() {
        cl = TestBackend.get();
    }

    private static Tensor half(DType dtype, Tensor values) {
        Tensor h = Tensor.zeros(dtype, values.shape());
        float[] v = values.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            h.storage().setFloat(dtype, i, v[i]);
        }
        return h;
    }

    @Test
    void uploadAndDownloadRoundTripEveryDtypeAndLayout() {
        Tensor x = random.signed(7, 13);
        Tensor dx = cl.upload(x);
        assertInstanceOf(ClStorage.class, dx.storage());
        assertSame(cl, dx.backend());
        assertArrayEquals(x.toFloatArray(), cl.download(dx).toFloatArray());

        Tensor view = x.transpose(0, 1).narrow(0, 2, 9);
        Tensor dv = cl.upload(view);
        assertTrue(dv.isContiguous());
        assertArrayEquals(new int[] {9, 7}, dv.shape());
        assertArrayEquals(view.toFloatArray(), cl.download(dv).toFloatArray());

        MemorySegment seg = Arena.ofAuto().allocate(4L * 10, 8);
        Tensor offHeap = Tensor.wrap(seg, DType.F32, 2, 5);
        for (int i = 0; i < 10; i++) {
            offHeap.setFloat(i * 0.5f - 2, i / 5, i % 5);
        }
        assertArrayEquals(offHeap.toFloatArray(), cl.download(cl.upload(offHeap)).toFloatArray());

        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            Tensor h = half(dtype, random.signed(5, 3));
            Tensor dh = cl.upload(h);
            assertEquals(dtype, dh.dtype(), "halves stay half on the device");
            assertEquals(2L * 15, dh.storage().byteSize());
            Tensor back = cl.download(dh);
            assertEquals(DType.F32, back.dtype());
            assertArrayEquals(h.toFloatArray(), back.toFloatArray(), "widening is exact");
            Tensor widened = cl.upload(h, DType.F32);
            assertEquals(DType.F32, widened.dtype());
            assertArrayEquals(h.toFloatArray(), cl.download(widened).toFloatArray());
            assertArrayEquals(h.transpose(0, 1).toFloatArray(), cl.download(dh.transpose(0, 1)).toFloatArray());
        }

        Tensor ids = Tensor.ofLongs(new long[] {3, -1, 1L << 40, 0, 7, 9}, 2, 3);
        Tensor dids = cl.upload(ids);
        assertEquals(DType.I64, dids.dtype());
        Tensor idsBack = cl.download(dids);
        assertEquals(DType.I64, idsBack.dtype());
        assertArrayEquals(ids.toLongArray(), idsBack.toLongArray());
        assertArrayEquals(ids.transpose(0, 1).toLongArray(), cl.download(dids.transpose(0, 1)).toLongArray());
        Tensor small = Tensor.ofInts(new int[] {5, -6, 7}, 3);
        assertArrayEquals(small.toLongArray(), cl.download(cl.upload(small)).toLongArray());
    }

    @Test
    void elementAccessTransfersSingleElements() {
        Tensor x = random.signed(4, 6);
        Tensor dx = cl.upload(x);
        assertEquals(x.getFloat(2, 5), dx.getFloat(2, 5));
        dx.setFloat(42.5f, 3, 1);
        assertEquals(42.5f, cl.download(dx).getFloat(3, 1));
        assertEquals(x.getFloat(1, 4), dx.transpose(0, 1).getFloat(4, 1));

        Tensor dh = cl.upload(half(DType.F16, x));
        dh.setFloat(0.1f, 0, 0);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f)), dh.getFloat(0, 0), "F16 elements round");

        Tensor ids = cl.upload(Tensor.ofLongs(new long[] {1, 2, 3}, 3));
        ids.storage().setLong(DType.I64, 1, 1L << 50);
        assertEquals(1L << 50, ids.getLong(1));

        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> dx.storage().getFloat(DType.F32, 24));
        assertTrue(e.getMessage().contains("24"), e.getMessage());
    }

    @Test
    void deviceViewsBecomeContiguousOnTheDevice() {
        Tensor x = random.signed(3, 8, 5);
        Tensor view = cl.upload(x).permute(2, 0, 1).narrow(2, 1, 6);
        Tensor c = view.contiguous();
        assertSame(cl, c.backend());
        assertTrue(c.isContiguous());
        assertArrayEquals(x.permute(2, 0, 1).narrow(2, 1, 6).toFloatArray(), cl.download(c).toFloatArray());
        Tensor f = cl.upload(half(DType.BF16, x)).to(DType.F32);
        assertSame(cl, f.backend());
        assertEquals(DType.F32, f.dtype());
        assertArrayEquals(half(DType.BF16, x).toFloatArray(), cl.download(f).toFloatArray());
    }

    @Test
    void closeReleasesDeviceMemoryAndOperationsFreeTheirTemporaries() {
        OpenClBackend own = TestBackend.fresh();
        assertEquals(0, own.liveBytes());
        Tensor x = own.upload(random.signed(5, 12));
        assertEquals(4L * 60, own.liveBytes());
        // Host weight, bias and a half weight are uploaded for the call and released after it.
        Tensor y = own.linear(x, random.signed(9, 12), random.signed(9));
        Tensor z = own.linear(x, half(DType.BF16, random.signed(4, 12)), null);
        Tensor s = own.softmax(x.transpose(0, 1));
        assertEquals(4L * (60 + 45 + 20 + 60), own.liveBytes());
        for (Tensor t : new Tensor[] {y, z, s}) {
            ((ClStorage) t.storage()).close();
        }
        assertEquals(4L * 60, own.liveBytes());
        ClStorage xs = (ClStorage) x.storage();
        xs.close();
        xs.close();
        assertEquals(0, own.liveBytes());
        assertFalse(xs.isOpen());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> own.download(x));
        assertTrue(e.getMessage().contains("close"), e.getMessage());
    }

    @Test
    void unreachableBuffersAreReleasedByTheCleaner() throws InterruptedException {
        OpenClBackend own = TestBackend.fresh();
        own.upload(random.signed(100));
        assertEquals(400, own.liveBytes());
        for (int i = 0; i < 100 && own.liveBytes() != 0; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, own.liveBytes());
    }

    @Test
    void tensorsOfAnotherContextGoThroughTheHost() {
        OpenClBackend other = TestBackend.fresh();
        Tensor a = random.signed(3, 4);
        Tensor b = random.signed(4);
        Tensor sum = cl.add(other.upload(a), cl.upload(b));
        assertSame(cl, sum.backend());
        Float64Reference.Result ref = Float64Reference.binary(a, b, Double::sum, (p, q, e) -> Closeness.U * Math.abs(e));
        Closeness.assertWithin("cross-context add", ref.shape(), ref.value(), ref.bound(), cl.download(sum));
    }
}
