package dev.pagoda.opencl;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;

/**
 * Registers the OpenCL backend with {@link java.util.ServiceLoader} under the name
 * {@code "opencl"}. Probing never throws: a machine without the JOCL native library, without an
 * OpenCL ICD loader, or without any platform or device simply reports the backend unavailable.
 */
public final class OpenClBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public boolean isAvailable() {
        return unavailableReason() == null;
    }

    @Override
    public Backend create() {
        return OpenClBackend.create();
    }

    /**
     * Why no OpenCL device can be used here, or null when one can (the device
     * {@link OpenClBackend#create()} would open).
     */
    public static String unavailableReason() {
        try {
            ClDevice.select();
            return null;
        } catch (LinkageError e) {
            return "the JOCL native library or the OpenCL loader (libOpenCL.so.1) could not be loaded: " + e;
        } catch (RuntimeException e) {
            // CLException (e.g. CL_PLATFORM_NOT_FOUND_KHR when no ICD is installed) or no device.
            return "no usable OpenCL platform/device: " + e.getMessage();
        }
    }
}
