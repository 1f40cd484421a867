package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.BackendProvider;
import dev.pagoda.tensor.BackendUnavailableException;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input to the OpenCL backend gives named errors that say what was wrong. */
class OpenClErrorsTest {

    @BeforeEach
    void device() {
        TestBackend.get();
    }

    @Test
    void aKernelBuildFailureShowsTheBuildLog() {
        // An undefined tile size breaks the attention kernel, as a compiler that rejects the source would.
        System.setProperty(ClDevice.BUILD_OPTIONS_PROPERTY, "-DATT_DV=pagoda_no_such_symbol");
        try {
            ClBuildException e = assertThrows(ClBuildException.class, OpenClBackend::create);
            assertTrue(e.getMessage().contains("pagoda_no_such_symbol"), e.getMessage());
            assertTrue(e.getMessage().contains("failed to build"), e.getMessage());
        } finally {
            System.clearProperty(ClDevice.BUILD_OPTIONS_PROPERTY);
        }
    }

    @Test
    void aDeviceIndexThatDoesNotExistIsNamed() {
        var e = assertThrows(BackendUnavailableException.class, () -> BackendProvider.open("opencl:0:99"));
        assertTrue(e.getMessage().contains("opencl:0:99") && e.getMessage().contains("no device 99"), e.getMessage());
        var p = assertThrows(BackendUnavailableException.class, () -> BackendProvider.open("opencl:42:0"));
        assertTrue(p.getMessage().contains("no OpenCL platform 42"), p.getMessage());
        var s = assertThrows(BackendUnavailableException.class, () -> BackendProvider.open("opencl:gpu"));
        assertTrue(s.getMessage().contains("opencl:PLATFORM:DEVICE"), s.getMessage());
    }

    @Test
    void anUnknownBackendListsTheAvailableOnes() {
        var e = assertThrows(BackendUnavailableException.class, () -> BackendProvider.open("cuda"));
        assertTrue(e.getMessage().contains("cpu, opencl"), e.getMessage());
    }
}
