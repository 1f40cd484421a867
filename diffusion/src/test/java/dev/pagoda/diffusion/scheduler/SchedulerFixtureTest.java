package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scheduler against diffusers 0.31 on the recorded runs of
 * {@code src/test/resources/schedulers/make_fixtures.py}: timesteps, sigmas, the initial noise
 * sigma, each {@code scale_model_input} and step output for a recorded chain of model outputs
 * (seeded torch noise for the schedulers that draw), and {@code add_noise}. Tolerance: 1e-6 of the
 * golden "rel" (max abs error over max(1, max |ref|)); timesteps and sigmas per element, relative
 * to max(1, |ref|).
 */
class SchedulerFixtureTest {

    private static final double TOL = 1e-6;
    private static Map<String, Object> fixtures;
    private static SafetensorsFile tensors;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        URL json = SchedulerFixtureTest.class.getResource("/schedulers/fixtures.json");
        assertTrue(json != null, "schedulers/fixtures.json is not on the test class path");
        Path dir = Path.of(json.toURI()).getParent();
        fixtures = Json.parseObjectWithNonFinite(Files.readString(dir.resolve("fixtures.json")));
        tensors = SafetensorsFile.open(dir.resolve("fixtures.safetensors"));
    }

    @AfterAll
    static void close() {
        tensors.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cases() {
        return (Map<String, Object>) fixtures.get("cases");
    }

    static Stream<String> caseNames() throws IOException, URISyntaxException {
        if (fixtures == null) {
            load();
        }
        return new TreeSet<>(cases().keySet()).stream();
    }

    @Test
    void everyNewSchedulerClassHasFixtures() {
        TreeSet<String> classes = new TreeSet<>();
        for (Object c : cases().values()) {
            classes.add((String) ((Map<?, ?>) c).get("class"));
        }
        for (String c : classes) {
            assertTrue(SchedulerFactory.SUPPORTED.contains(c), c + " has fixtures but is not in SchedulerFactory");
        }
        assertEquals(new TreeSet<>(List.of("DDPMScheduler", "DEISMultistepScheduler", "DPMSolverSDEScheduler", "DPMSolverSinglestepScheduler", "HeunDiscreteScheduler", "KDPM2AncestralDiscreteScheduler",
                "KDPM2DiscreteScheduler", "LCMScheduler", "LMSDiscreteScheduler", "PNDMScheduler", "TCDScheduler",
                "UniPCMultistepScheduler")), classes);
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest(name = "{0}")
    @MethodSource("caseNames")
    void matchesDiffusers(String name) {
        Map<String, Object> c = (Map<String, Object>) cases().get(name);
        SchedulerConfig config = new SchedulerConfig((Map<String, Object>) c.get("config"), "fixture " + name);
        Scheduler s = SchedulerFactory.fromConfig(config);
        assertEquals(c.get("class"), s.className());
        int steps = ((Number) c.get("steps")).intValue();
        s.setTimesteps(steps);
        float[] ts = s.timesteps();
        assertElementwise(name + " timesteps", ts, GoldenFixtures.floats(c.get("timesteps")));
        if (c.containsKey("sigmas")) {
            assertElementwise(name + " sigmas", s.sigmas(), GoldenFixtures.floats(c.get("sigmas")));
        }
        assertEquals(((Number) c.get("order")).intValue(), s.order(), name + " order");
        assertElementwise(name + " init_noise_sigma", new float[] {s.initNoiseSigma()},
                new float[] {((Number) c.get("init_noise_sigma")).floatValue()});
        if (s instanceof EtaScheduler o) {
            Map<String, Object> kw = (Map<String, Object>) c.get("step_kwargs");
            if (kw.containsKey("eta")) {
                o.setEta(((Number) kw.get("eta")).floatValue());
            }
        }
        NoiseSource noise = c.get("noise_seed") == null ? null
                : new TorchGenerator(((Number) c.get("noise_seed")).longValue());
        List<String> fields = (List<String>) c.get("outputs");
        Tensor x = tensors.tensor(name + "/sample");
        for (int i = 0; i < ts.length; i++) {
            Tensor m = tensors.tensor(name + "/model_output_" + i);
            assertClose(name + " scaled " + i, s.scaleModelInput(x, ts[i]),
                    tensors.tensor(name + "/scaled_" + i), TOL);
            SchedulerOutput out = s.step(m, ts[i], x, noise);
            assertClose(name + " prev " + i, out.prevSample(), tensors.tensor(name + "/prev_" + i), TOL);
            // LCM and TCD return the denoised estimate the pipelines decode as their x₀.
            String x0Field = fields.contains("denoised") ? "denoised" : fields.contains("pred_original_sample")
                    ? "pred_original_sample" : null;
            if (x0Field != null) {
                assertClose(name + " " + x0Field + " " + i, out.predOriginalSample(),
                        tensors.tensor(name + "/" + x0Field + "_" + i), TOL);
            }
            x = out.prevSample();
        }
        // The recorded add_noise ran at the second timestep entry (equal to ours within the check above).
        Scheduler fresh = SchedulerFactory.fromConfig(config);
        fresh.setTimesteps(steps);
        Tensor noised = fresh.addNoise(tensors.tensor(name + "/add_noise_original"),
                tensors.tensor(name + "/add_noise_noise"), ts[1]);
        assertClose(name + " add_noise", noised, tensors.tensor(name + "/add_noise"), TOL);
    }

    private static void assertElementwise(String what, float[] got, float[] ref) {
        if (got.length != ref.length) {
            fail(what + ": " + got.length + " values, expected " + ref.length);
        }
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) got[i] - ref[i]);
            if (!(err <= TOL * Math.max(1, Math.abs(ref[i])))) {
                bad.add(i + ": " + got[i] + " vs " + ref[i]);
            }
        }
        assertTrue(bad.isEmpty(), what + " differ at " + bad);
    }

    private static void assertClose(String what, Tensor got, Tensor ref, double tol) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        double r = GoldenFixtures.rel(got.toFloatArray(), ref.toFloatArray());
        org.junit.jupiter.api.Assertions.assertTrue(r <= tol, what + ": rel error " + r + " exceeds " + tol);
    }
}
