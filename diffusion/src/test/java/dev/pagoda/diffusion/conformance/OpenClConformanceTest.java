package dev.pagoda.diffusion.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code pagoda conformance --backend opencl}: every golden case that passes on the CPU
 * ({@link GoldenConformanceTest#supported()}) passes with the models and pipelines on the OpenCL
 * device, within the same golden tolerances. On CI the device is PoCL.
 */
class OpenClConformanceTest {

    private Backend opencl;

    @BeforeEach
    void device() {
        opencl = OpenClDevice.get();
    }

    @ParameterizedTest
    @MethodSource("dev.pagoda.diffusion.conformance.GoldenConformanceTest#supported")
    void casePassesOnOpenCl(String name) {
        CaseResult r = new ConformanceRunner(GoldenConformanceTest.root(), opencl).run(name);
        assertTrue(r.passed(), r.line());
    }
}
