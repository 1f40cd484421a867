package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The golden case {@code scheduler_euler}: the real SDXL Euler config. */
class EulerDiscreteSchedulerGoldenTest {

    @Test
    void timestepAndSigmaTablesMatchDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_euler")) {
            assertEquals(7, SchedulerGoldenCases.checkTables(c));
        }
    }

    @Test
    void stepSequencesMatchDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_euler")) {
            assertEquals(2 + 3 + 4, SchedulerGoldenCases.checkSequences(c, true));
        }
    }

    @Test
    void addNoiseMatchesDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_euler")) {
            assertEquals(3, SchedulerGoldenCases.checkAddNoise(c));
        }
    }

    @Test
    void modelFolderConfigBuildsTheSameScheduler() {
        Scheduler s = SchedulerFactory.fromPretrained(GoldenCase.root().resolve("models/tiny-sdxl"));
        assertEquals(EulerDiscreteScheduler.CLASS_NAME, s.className());
    }
}
