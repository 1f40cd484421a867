package dev.pagoda.diffusion.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;
import dev.pagoda.tensor.BackendUnavailableException;
import org.junit.jupiter.api.Assumptions;

/**
 * The OpenCL backend as diffusion reaches it, through {@link BackendProvider#open} (ServiceLoader;
 * kernels-opencl is a test dependency only), one per test JVM so PoCL compiles the kernels once.
 * Call from {@code @BeforeEach}: without OpenCL the test is skipped with the reason, or fails when
 * {@code -Docl.required=true} (CI).
 */
public final class OpenClDevice {

    private static Backend shared;
    private static String unavailable;

    private OpenClDevice() {
    }

    public static synchronized Backend get() {
        if (shared == null && unavailable == null) {
            try {
                shared = BackendProvider.open("opencl");
            } catch (BackendUnavailableException e) {
                unavailable = e.getMessage();
            }
        }
        if (shared == null) {
            if (Boolean.getBoolean("ocl.required")) {
                fail("ocl.required=true but OpenCL is unavailable: " + unavailable);
            }
            Assumptions.abort("OpenCL is unavailable (" + unavailable + ")");
        }
        return shared;
    }
}
