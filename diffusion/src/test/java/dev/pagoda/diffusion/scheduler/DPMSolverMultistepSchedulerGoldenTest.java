package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The golden case {@code scheduler_dpm}: the PixArt-Σ DPM-Solver++ config (order 2, midpoint). */
class DPMSolverMultistepSchedulerGoldenTest {

    @Test
    void timestepAndSigmaTablesMatchDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_dpm")) {
            assertEquals(6, SchedulerGoldenCases.checkTables(c));
        }
    }

    @Test
    void stepSequencesWithMultistepStateMatchDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_dpm")) {
            assertEquals(2 + 3 + 4 + 10, SchedulerGoldenCases.checkSequences(c, false));
        }
    }

    @Test
    void addNoiseMatchesDiffusers() {
        try (GoldenCase c = GoldenCase.open("scheduler_dpm")) {
            assertEquals(3, SchedulerGoldenCases.checkAddNoise(c));
        }
    }

    @Test
    void modelFolderConfigWithMinusInfinityBuildsTheSameScheduler() {
        Scheduler s = SchedulerFactory.fromPretrained(GoldenCase.root().resolve("models/tiny-pixart-sigma"));
        assertEquals(DPMSolverMultistepScheduler.CLASS_NAME, s.className());
    }
}
