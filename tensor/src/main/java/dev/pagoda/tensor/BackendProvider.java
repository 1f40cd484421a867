package dev.pagoda.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * A device backend found at run time through {@link ServiceLoader} (the OpenCL module registers
 * one), so the core jars carry no native code.
 */
public interface BackendProvider {

    /** Short name used on the command line, e.g. {@code "opencl"}. */
    String name();

    /** Whether the device can be used on this machine (drivers present, a device found). */
    boolean isAvailable();

    /** Creates the backend; only called when {@link #isAvailable()} is true. */
    Backend create();

    /** Every provider on the class path. */
    static List<BackendProvider> all() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(out::add);
        return out;
    }
}
