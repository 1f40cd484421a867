package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link TorchFloatMath} against torch 1.13's own float32 exp, log and expm1, and
 * {@link NumpyFloatMath} against numpy 1.24's float32 log, bit for bit, on the inputs recorded by {@code src/test/resources/schedulers/make_torch_float_math.py}.
 */
class TorchFloatMathTest {

    @Test
    void matchesTorchBitForBit() throws IOException {
        List<String> bad = new ArrayList<>();
        int checked = 0;
        int differFromCorrectRounding = 0;
        try (InputStream in = TorchFloatMathTest.class.getResourceAsStream("/schedulers/torch_float_math.txt")) {
            assertTrue(in != null, "schedulers/torch_float_math.txt is not on the test class path");
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split(" ");
                float x = Float.intBitsToFloat(Integer.parseUnsignedInt(f[1], 16));
                float ref = Float.intBitsToFloat(Integer.parseUnsignedInt(f[2], 16));
                float got;
                float rounded;
                switch (f[0]) {
                    case "exp" -> {
                        got = TorchFloatMath.exp(x);
                        rounded = (float) Math.exp(x);
                    }
                    case "log" -> {
                        got = TorchFloatMath.log(x);
                        rounded = (float) Math.log(x);
                    }
                    case "nplog" -> {
                        got = NumpyFloatMath.log(x);
                        rounded = (float) Math.log(x);
                    }
                    default -> {
                        got = TorchFloatMath.expm1(x);
                        rounded = (float) Math.expm1(x);
                    }
                }
                checked++;
                if (rounded != ref) {
                    differFromCorrectRounding++;
                }
                if (Float.floatToIntBits(got) != Float.floatToIntBits(ref)) {
                    bad.add(f[0] + "(" + x + ") = " + got + ", torch " + ref);
                }
            }
        }
        assertEquals(8000, checked);
        // The table is only a test of something if torch really differs from correct rounding there.
        assertTrue(differFromCorrectRounding > 100, "only " + differFromCorrectRounding + " inputs differ");
        assertTrue(bad.isEmpty(), bad.size() + " mismatches, e.g. " + bad.subList(0, Math.min(5, bad.size())));
    }

    @Test
    void specialValues() {
        assertEquals(Float.NEGATIVE_INFINITY, TorchFloatMath.log(0f));
        assertTrue(Float.isNaN(TorchFloatMath.log(-1f)));
        assertEquals(0f, TorchFloatMath.log(1f));
        assertEquals(1f, TorchFloatMath.exp(0f));
        assertEquals(0f, TorchFloatMath.exp(-200f));
        assertEquals(Float.POSITIVE_INFINITY, TorchFloatMath.exp(200f));
        assertEquals(-1f, TorchFloatMath.expm1(-50f));
        assertEquals(Float.NEGATIVE_INFINITY, NumpyFloatMath.log(0f));
        assertEquals(0f, NumpyFloatMath.log(1f));
        assertEquals((float) Math.log(Float.MIN_VALUE), NumpyFloatMath.log(Float.MIN_VALUE), 1e-4f);
    }
}
