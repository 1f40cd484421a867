package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** SchedulerConfig is the shared JsonConfig reader under the scheduler's name. */
class SchedulerConfigTest {

    @Test
    void errorsAreConfigExceptionsNamingTheSource() {
        SchedulerConfig c = SchedulerTestConfigs.sdxl().with("steps_offset", "one");
        ConfigException e = assertThrows(ConfigException.class, () -> new EulerDiscreteScheduler(c));
        assertTrue(e.getMessage().startsWith("scheduler config test SDXL config"), e.getMessage());
        assertEquals("test SDXL config", c.source());
        assertEquals(c.values(), c.json().values());
        assertThrows(ConfigException.class, () -> SchedulerConfig.parse("{", "inline"));
    }

    /** Fuzz finding: num_train_timesteps = 2^31 - 1 sized the schedule's arrays and ran the heap out. */
    @Test
    void hugeTrainingTimestepCountsAreRefused() {
        for (String cls : SchedulerFactory.SUPPORTED) {
            SchedulerConfig c = SchedulerTestConfigs.sdxl().with("num_train_timesteps", (long) Integer.MAX_VALUE);
            ConfigException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> assertThrows(ConfigException.class, () -> SchedulerFactory.create(cls, c)));
            assertTrue(e.getMessage().contains("num_train_timesteps"), e.getMessage());
        }
    }

    @Test
    void integralNumbersReadAsIntegersAndNullTakesTheDefault() {
        Scheduler s = SchedulerFactory.create(EulerDiscreteScheduler.CLASS_NAME,
                SchedulerTestConfigs.sdxl().with("num_train_timesteps", 1000.0).with("steps_offset", null));
        assertEquals(1000, s.numTrainTimesteps());
    }
}
