package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpProfileTest {
    final Backend profiled = OpProfile.wrap(CpuBackend.INSTANCE);
    final Random r = new Random(7);

    Tensor rnd(int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return Tensor.of(a, shape);
    }

    Map<String, OpProfile.Entry> byOp() {
        return OpProfile.entries().stream().collect(Collectors.toMap(OpProfile.Entry::op, e -> e));
    }

    @BeforeEach
    void reset() {
        OpProfile.reset();
    }

    @Test
    void offByDefaultSoTheCpuBackendIsThePlainOne() {
        assertSame(CpuBackend.INSTANCE, Backend.cpu());
    }

    @Test
    void countsCallsAndTheArithmeticOfProducts() {
        Tensor a = rnd(3, 5);
        Tensor b = rnd(5, 7);
        Tensor viaProfile = profiled.matmul(a, b);
        assertArrayEquals(CpuBackend.INSTANCE.matmul(a, b).toFloatArray(), viaProfile.toFloatArray());
        profiled.matmul(a, b);
        // conv: [2,3,11,13] with [4,3,3,3], stride 1, padding 1 -> [2,4,11,13]; 2 * out * (3*3*3)
        profiled.conv2d(rnd(2, 3, 11, 13), rnd(4, 3, 3, 3), rnd(4), 1, 1, 1);
        // attention: B=3 (one identity row), Lq=Lk=5, heads 2 x D 4: 2 * 2 rows * 5 * 5 * (8 + 8)
        profiled.attention(rnd(3, 5, 8), rnd(3, 5, 8), rnd(3, 5, 8), 2, 0.5f, null,
                new boolean[] {false, false, true});
        profiled.add(rnd(4), rnd(4));
        Map<String, OpProfile.Entry> e = byOp();
        assertEquals(2, e.get("matmul").calls());
        assertEquals(2 * 2.0 * 3 * 5 * 7, e.get("matmul").flops());
        assertEquals(2.0 * (2 * 4 * 11 * 13) * 27, e.get("conv2d").flops());
        assertEquals(2.0 * 2 * 5 * 5 * 16, e.get("attention").flops());
        assertEquals(0.0, e.get("add").flops());
        assertTrue(e.get("conv2d").nanos() > 0);
        String table = OpProfile.table(OpProfile.entries().stream().mapToLong(OpProfile.Entry::nanos).sum() * 2);
        assertTrue(table.contains("outside ops") && table.contains("conv2d"), table);
    }

    @Test
    void exceptionsOfTheBackendPassThroughUnwrapped() {
        assertThrows(IllegalArgumentException.class, () -> profiled.matmul(rnd(3, 5), rnd(4, 7)));
    }
}
