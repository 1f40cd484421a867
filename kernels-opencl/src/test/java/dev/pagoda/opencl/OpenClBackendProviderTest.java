package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.BackendProvider;

import org.junit.jupiter.api.Test;

/** Discovery and probing must work on every machine, with or without OpenCL: no skip here. */
class OpenClBackendProviderTest {

    private static BackendProvider provider() {
        List<BackendProvider> found = BackendProvider.all().stream().filter(p -> p.name().equals("opencl")).toList();
        assertEquals(1, found.size(), "one provider named opencl on the class path");
        return found.getFirst();
    }

    @Test
    void serviceLoaderFindsTheOpenClProvider() {
        assertInstanceOf(OpenClBackendProvider.class, provider());
    }

    @Test
    void availabilityAgreesWithTheProbeAndNeverThrows() {
        String reason = OpenClBackendProvider.probe();
        assertEquals(reason == null, provider().isAvailable(), () -> "probe said: " + reason);
        if (reason != null) {
            assertFalse(reason.isBlank());
        }
    }

    @Test
    void createsABackendWhereADeviceExists() {
        TestBackend.get();
        Backend backend = provider().create();
        assertEquals("opencl", backend.name());
        assertTrue(!((OpenClBackend) backend).deviceName().isBlank());
    }
}
