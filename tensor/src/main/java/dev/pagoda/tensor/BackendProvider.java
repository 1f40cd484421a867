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

    /**
     * Creates the backend on the device named by {@code device}, a provider-specific selector
     * (OpenCL: {@code "PLATFORM:DEVICE"} indices as {@code pagoda devices} lists them); empty means
     * the provider's default device.
     */
    default Backend create(String device) {
        if (!device.isEmpty()) {
            throw new BackendUnavailableException("backend " + name() + " takes no device selector, got \"" + device
                    + "\"");
        }
        return create();
    }

    /** Why this backend cannot be used here, or null when it can. */
    default String unavailableReason() {
        return isAvailable() ? null : "backend " + name() + " is not available on this machine";
    }

    /** Human-readable lines describing the devices this provider sees (for {@code pagoda devices}). */
    default java.util.List<String> describeDevices() {
        return java.util.List.of();
    }

    /**
     * The backend named by {@code spec}: {@code "cpu"}, or a provider name with an optional device
     * selector after the first colon ({@code "opencl"}, {@code "opencl:0:1"}).
     *
     * @throws BackendUnavailableException naming what was asked and why it cannot be had
     */
    static Backend open(String spec) {
        String name = spec;
        String device = "";
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            name = spec.substring(0, colon);
            device = spec.substring(colon + 1);
        }
        if (name.equals("cpu")) {
            if (!device.isEmpty()) {
                throw new BackendUnavailableException("backend cpu takes no device selector, got \"" + spec + "\"");
            }
            return Backend.cpu();
        }
        List<BackendProvider> providers = all();
        for (BackendProvider p : providers) {
            if (p.name().equals(name)) {
                String why = p.unavailableReason();
                if (why != null) {
                    throw new BackendUnavailableException("backend " + spec + ": " + why);
                }
                return p.create(device);
            }
        }
        throw new BackendUnavailableException("unknown backend \"" + name + "\" (available here: cpu"
                + providers.stream().map(p -> ", " + p.name()).reduce("", String::concat)
                + (name.equals("opencl") ? "; the OpenCL module is not on the class path: the pagoda launcher adds it"
                        + " for --backend opencl" : "") + ")");
    }

    /** Every provider on the class path. */
    static List<BackendProvider> all() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(out::add);
        return out;
    }
}
