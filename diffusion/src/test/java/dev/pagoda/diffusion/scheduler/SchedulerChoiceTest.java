package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scheduler class + config overrides on top of a model's scheduler_config.json. */
class SchedulerChoiceTest {

    private static Path sdxlConfig(Path dir) throws IOException {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, """
                {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
                 "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon",
                 "steps_offset": 1, "timestep_spacing": "leading", "use_karras_sigmas": false}
                """);
        return f;
    }

    @Test
    void overridesActLikeFromConfigKeywords(@TempDir Path dir) throws IOException {
        Path f = sdxlConfig(dir);
        Scheduler s = new SchedulerChoice("DPMSolverMultistepScheduler", Map.of("use_karras_sigmas", true)).build(f);
        Scheduler ref = SchedulerFactory.create("DPMSolverMultistepScheduler",
                SchedulerConfig.read(f).with("use_karras_sigmas", true));
        s.setTimesteps(10);
        ref.setTimesteps(10);
        assertArrayEquals(ref.sigmas(), s.sigmas());
        assertArrayEquals(ref.timesteps(), s.timesteps());
        // The model's own class when none is named.
        Scheduler own = new SchedulerChoice(null, Map.of("timestep_spacing", "trailing")).build(f);
        assertEquals("EulerDiscreteScheduler", own.className());
        own.setTimesteps(4);
        assertEquals(999f, own.timesteps()[0]);
    }

    @Test
    void parsesKeyValueLists() {
        Map<String, Object> m = SchedulerChoice.parseOverrides(
                "use_karras_sigmas=true, solver_order=3,timestep_spacing=trailing,lambda_min_clipped=-5.1,sigma_min=null");
        assertEquals(Boolean.TRUE, m.get("use_karras_sigmas"));
        assertEquals(3, ((Number) m.get("solver_order")).intValue());
        assertEquals("trailing", m.get("timestep_spacing"));
        assertEquals(-5.1, ((Number) m.get("lambda_min_clipped")).doubleValue());
        assertTrue(m.containsKey("sigma_min"));
        assertNull(m.get("sigma_min"));
        assertTrue(SchedulerChoice.parseOverrides("").isEmpty());
    }

    @Test
    void typosAndUnknownClassesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SchedulerChoice(null, Map.of("use_karas_sigmas", true)));
        assertTrue(e.getMessage().contains("use_karas_sigmas"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerChoice.of("FlowMatchEulerDiscreteScheduler"));
        assertTrue(e.getMessage().contains("FlowMatchEulerDiscreteScheduler"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SchedulerChoice.parseOverrides("solver_order"));
        assertTrue(e.getMessage().contains("key=value"), e.getMessage());
    }

    @Test
    void badOverrideValuesFailWhenBuiltNamingTheField(@TempDir Path dir) throws IOException {
        Path f = sdxlConfig(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SchedulerChoice("DEISMultistepScheduler", Map.of("solver_order", 0L)).build(f));
        assertTrue(e.getMessage().contains("solver_order"), e.getMessage());
    }
}
