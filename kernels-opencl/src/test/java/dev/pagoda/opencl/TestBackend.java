package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * The OpenCL backend shared by the tests of one JVM, so that PoCL compiles the kernels once.
 * Call {@link #get()} from {@code @BeforeEach} (not {@code @BeforeAll}: surefire would then report
 * no tests and no reason): without an OpenCL platform the test is skipped with the reason, unless
 * the system property {@code ocl.required} is {@code true} (CI), in which case it fails.
 */
final class TestBackend {

    private static boolean probed;
    private static String unavailable;
    private static OpenClBackend shared;
    private static RuntimeException createFailure;

    private TestBackend() {
    }

    static synchronized OpenClBackend get() {
        if (!probed) {
            probed = true;
            unavailable = OpenClBackendProvider.probe();
            if (unavailable == null) {
                try {
                    shared = OpenClBackend.create();
                } catch (RuntimeException e) {
                    createFailure = e;
                }
            }
        }
        if (createFailure != null) {
            throw new IllegalStateException("an OpenCL device exists but the backend failed to start", createFailure);
        }
        if (shared == null) {
            if (Boolean.getBoolean("ocl.required")) {
                fail("ocl.required=true but OpenCL is unavailable: " + unavailable);
            }
            Assumptions.abort("OpenCL is unavailable (" + unavailable + "); run with -Docl.required=true to fail instead");
        }
        return shared;
    }

    /** A second, independent backend (own context and memory accounting), for tests that count bytes. */
    static OpenClBackend fresh() {
        get();
        return OpenClBackend.create();
    }
}
