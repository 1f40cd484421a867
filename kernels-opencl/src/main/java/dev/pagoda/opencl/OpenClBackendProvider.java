package dev.pagoda.opencl;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;
import dev.pagoda.tensor.BackendUnavailableException;

import java.util.List;

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

    /** {@code ""} for the preferred device, or {@code "PLATFORM:DEVICE"} indices. */
    @Override
    public Backend create(String device) {
        if (device.isEmpty()) {
            return create();
        }
        String[] parts = device.split(":", -1);
        try {
            if (parts.length == 2) {
                return OpenClBackend.create(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
            }
        } catch (NumberFormatException e) {
            // reported below
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException("opencl:" + device + ": " + e.getMessage(), e);
        }
        throw new BackendUnavailableException("opencl:" + device + ": expected opencl:PLATFORM:DEVICE with the "
                + "indices `pagoda devices` lists, e.g. opencl:0:0");
    }

    @Override
    public List<String> describeDevices() {
        String why = probe();
        if (why != null) {
            return List.of("(none: " + why + ")");
        }
        return ClDevice.describeAll();
    }

    /**
     * Why no OpenCL device can be used here, or null when one can (the device
     * {@link OpenClBackend#create()} would open).
     */
    @Override
    public String unavailableReason() {
        return probe();
    }

    /** As {@link #unavailableReason()}, without a provider instance. */
    public static String probe() {
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
