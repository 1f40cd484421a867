package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets an IllegalArgumentException that names the field or parameter and the value. */
class SchedulerInputValidationTest {

    private static List<Supplier<Scheduler>> allSchedulers() {
        return List.of(
                () -> SchedulerFactory.create("EulerDiscreteScheduler", SchedulerTestConfigs.sdxl()),
                () -> SchedulerFactory.create("EulerAncestralDiscreteScheduler", SchedulerTestConfigs.sdxl()),
                () -> SchedulerFactory.create("DPMSolverMultistepScheduler", SchedulerTestConfigs.pixart()),
                () -> SchedulerFactory.create("DDIMScheduler", SchedulerTestConfigs.sdxl()));
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
        }
    }

    @Test
    void zeroOrNegativeStepsAreRejected() {
        for (Supplier<Scheduler> make : allSchedulers()) {
            Scheduler s = make.get();
            for (int n : new int[] {0, -1, -50}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(n));
                assertMessage(e, "numInferenceSteps", String.valueOf(n), s.className());
                assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(n, 0.5));
            }
        }
    }

    @Test
    void strengthOutsideZeroToOneIsRejected() {
        for (Supplier<Scheduler> make : allSchedulers()) {
            Scheduler s = make.get();
            for (double strength : new double[] {0.0, -0.1, 1.0001, 2, Double.NaN, Double.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> s.setTimesteps(10, strength));
                assertMessage(e, "strength", String.valueOf(strength));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(4, 0.2));
            assertMessage(e, "strength 0.2", "no denoising step");
        }
    }

    @Test
    void unknownTimestepSpacingIsNamed() {
        for (String cls : SchedulerFactory.SUPPORTED) {
            SchedulerConfig c = SchedulerTestConfigs.sdxl().with("timestep_spacing", "karras");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerFactory.create(cls, c));
            assertMessage(e, "timestep_spacing", "\"karras\"", "linspace", "test SDXL config");
        }
    }

    @Test
    void unknownPredictionTypeIsNamed() {
        for (String cls : SchedulerFactory.SUPPORTED) {
            SchedulerConfig c = SchedulerTestConfigs.sdxl().with("prediction_type", "flow");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerFactory.create(cls, c));
            assertMessage(e, "prediction_type", "\"flow\"", "epsilon");
        }
    }

    @Test
    void unknownOrMissingClassNameIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerFactory.fromConfig(SchedulerTestConfigs.sdxl().with("_class_name", "FlowMatchEulerDiscreteScheduler")));
        assertMessage(e, "_class_name", "\"FlowMatchEulerDiscreteScheduler\"", "EulerDiscreteScheduler");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> SchedulerFactory.fromConfig(SchedulerConfig.parse("{\"beta_start\": 0.001}", "inline")));
        assertMessage(missing, "_class_name", "inline");
        IllegalArgumentException notString = assertThrows(IllegalArgumentException.class,
                () -> SchedulerFactory.fromConfig(SchedulerConfig.parse("{\"_class_name\": 3}", "inline")));
        assertMessage(notString, "_class_name", "a string");
    }

    @Test
    void wronglyTypedOrInvalidFieldsAreNamed() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("steps_offset", "one"))), "steps_offset", "an integer");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("beta_schedule", "cubic"))), "beta_schedule", "\"cubic\"");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("use_karras_sigmas", "yes"))), "use_karras_sigmas", "true or false");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("use_karras_sigmas", true).with("use_exponential_sigmas", true))),
                "use_karras_sigmas", "use_exponential_sigmas");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("interpolation_type", "log_linear"))), "interpolation_type", "log_linear");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("final_sigmas_type", "one"))), "final_sigmas_type");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("beta_end", 1.5).with("beta_schedule", "linear"))), "betas");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new EulerDiscreteScheduler(
                SchedulerTestConfigs.sdxl().with("trained_betas", List.of(0.1, 0.2)))), "trained_betas", "1000 values");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new DPMSolverMultistepScheduler(
                SchedulerTestConfigs.pixart().with("solver_order", 4L))), "solver_order", "4");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new DPMSolverMultistepScheduler(
                SchedulerTestConfigs.pixart().with("algorithm_type", "dpmsolver"))), "algorithm_type", "\"dpmsolver\"");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new DPMSolverMultistepScheduler(
                SchedulerTestConfigs.pixart().with("solver_type", "rk4"))), "solver_type", "\"rk4\"");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new DPMSolverMultistepScheduler(
                SchedulerTestConfigs.pixart().with("variance_type", "fixed"))), "variance_type", "\"fixed\"");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new DPMSolverMultistepScheduler(
                SchedulerTestConfigs.pixart().with("use_flow_sigmas", true))), "use_flow_sigmas");
    }

    @Test
    void invalidJsonAndMissingFilesAreReported(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("scheduler_config.json");
        Files.writeString(bad, "{\"_class_name\": \"EulerDiscreteScheduler\",");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> SchedulerFactory.fromConfigFile(bad)),
                bad.toString(), "not valid JSON");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> SchedulerFactory.fromPretrained(dir)),
                "no scheduler config", dir.toString());
    }

    @Test
    void stepMisuseIsAClearError() {
        Scheduler euler = allSchedulers().get(0).get();
        Tensor a = Tensor.zeros(1, 4, 8, 8);
        Tensor b = Tensor.zeros(1, 4, 8, 9);
        assertThrows(IllegalStateException.class, () -> euler.step(a, 1, a, null));
        assertThrows(IllegalStateException.class, euler::timesteps);
        euler.setTimesteps(2);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> euler.step(a, 501, b, null)),
                "[1, 4, 8, 8]", "[1, 4, 8, 9]", "step");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> euler.addNoise(a, b, 501)),
                "[1, 4, 8, 8]", "[1, 4, 8, 9]", "addNoise");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> euler.step(a, 500, a, null)),
                "timestep 500.0", "not in the schedule");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> euler.setBeginIndex(2)), "setBeginIndex", "2");
        euler.step(a, 501, a, null);
        euler.step(a, 1, a, null);
        assertMessage(assertThrows(IllegalStateException.class, () -> euler.step(a, 1, a, null)), "all 2 steps");
        for (Supplier<Scheduler> make : allSchedulers()) {
            Scheduler s = make.get();
            s.setTimesteps(3);
            assertThrows(IllegalArgumentException.class, () -> s.step(a, s.timesteps()[0], b, null), s.className());
        }
    }
}
