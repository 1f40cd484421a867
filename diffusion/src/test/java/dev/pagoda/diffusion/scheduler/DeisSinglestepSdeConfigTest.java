package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * Config refusals of DEIS, single-step DPM-Solver and DPM-Solver SDE (each names the field, the value
 * and what was expected), the single-step order list against diffusers' {@code get_order_list}, and
 * numpy's {@code SeedSequence} against values printed by numpy 1.24.
 */
class DeisSinglestepSdeConfigTest {

    private static void refused(String cls, SchedulerConfig c, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerFactory.create(cls, c));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
        }
    }

    private static SchedulerConfig sdxl(String key, Object value) {
        return SchedulerTestConfigs.sdxl().with(key, value);
    }

    @Test
    void deisRefusals() {
        String d = DEISMultistepScheduler.CLASS_NAME;
        refused(d, sdxl("solver_order", 0L), "solver_order", "0");
        refused(d, sdxl("solver_order", 100L), "solver_order", "100", "[1, 16]");
        refused(d, sdxl("algorithm_type", "sde-dpmsolver++"), "algorithm_type", "sde-dpmsolver++", "deis");
        refused(d, sdxl("solver_type", "euler"), "solver_type", "euler", "logrho");
        refused(d, sdxl("use_exponential_sigmas", true), "use_exponential_sigmas", "diffusers 0.31");
        refused(d, sdxl("use_beta_sigmas", true), "use_beta_sigmas");
        refused(d, sdxl("use_karras_sigmas", true).with("use_exponential_sigmas", true), "only one of");
    }

    @Test
    void singlestepRefusals() {
        String s = DPMSolverSinglestepScheduler.CLASS_NAME;
        refused(s, sdxl("solver_order", 4L), "solver_order", "4", "1, 2 or 3");
        refused(s, sdxl("algorithm_type", "dpmsolver"), "final_sigmas_type", "sigma_min", "dpmsolver");
        refused(s, sdxl("algorithm_type", "sde-dpmsolver++").with("solver_order", 3L), "solver_order", "3",
                "sde-dpmsolver++");
        refused(s, sdxl("algorithm_type", "dpmsolver").with("final_sigmas_type", "sigma_min")
                .with("thresholding", true), "thresholding", "dpmsolver");
        refused(s, sdxl("final_sigmas_type", "one"), "final_sigmas_type", "\"one\"", "sigma_min");
        refused(s, sdxl("variance_type", "fixed_small"), "variance_type", "fixed_small");
        refused(s, sdxl("use_exponential_sigmas", true), "use_exponential_sigmas");
    }

    @Test
    void sdeRefusals() {
        String e = DPMSolverSDEScheduler.CLASS_NAME;
        refused(e, sdxl("prediction_type", "sample"), "prediction_type", "\"sample\"", "v_prediction");
        refused(e, sdxl("noise_sampler_seed", -1L), "noise_sampler_seed", "-1");
        refused(e, sdxl("noise_sampler_seed", 1.5), "noise_sampler_seed", "1.5");
        refused(e, sdxl("use_beta_sigmas", true), "use_beta_sigmas");
    }

    @Test
    void sdeWithoutSeedNeedsATorchGenerator() {
        Scheduler s = SchedulerFactory.create(DPMSolverSDEScheduler.CLASS_NAME, SchedulerTestConfigs.sdxl());
        s.setTimesteps(4);
        Tensor x = SchedulerTestConfigs.randn(1, 1, 4, 2, 2);
        float t = s.timesteps()[0];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.step(x, t, x, NoiseSource.replay(x)));
        assertTrue(e.getMessage().contains("noise_sampler_seed"), e.getMessage());
        // With a seeded generator the tree's seed is drawn from it: the same seed gives the same run.
        float[][] runs = new float[2][];
        for (int r = 0; r < 2; r++) {
            Scheduler a = SchedulerFactory.create(DPMSolverSDEScheduler.CLASS_NAME, SchedulerTestConfigs.sdxl());
            a.setTimesteps(4);
            runs[r] = a.step(x, t, x, new TorchGenerator(5)).prevSample().toFloatArray();
        }
        assertArrayEquals(runs[0], runs[1]);
    }

    @Test
    void sdeRefusesAnotherShapeMidRun() {
        Scheduler s = SchedulerFactory.create(DPMSolverSDEScheduler.CLASS_NAME, sdxl("noise_sampler_seed", 3L));
        s.setTimesteps(4);
        float[] ts = s.timesteps();
        Tensor x = SchedulerTestConfigs.randn(1, 1, 4, 2, 2);
        Tensor next = s.step(x, ts[0], x, null).prevSample();
        Tensor other = SchedulerTestConfigs.randn(2, 1, 4, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.step(other, ts[1], other, null));
        assertTrue(e.getMessage().contains("Brownian tree") && e.getMessage().contains("[1, 4, 2, 3]"), e.getMessage());
        assertEquals(16, next.toFloatArray().length);
    }

    @Test
    void orderListMatchesDiffusers() {
        // diffusers 0.31 get_order_list(steps) for (order, lower_order_final).
        assertArrayEquals(new int[] {1, 2, 3, 1, 2, 1}, DPMSolverSinglestepScheduler.orderList(6, 3, true));
        assertArrayEquals(new int[] {1, 2, 3, 1, 2, 3, 1}, DPMSolverSinglestepScheduler.orderList(7, 3, true));
        assertArrayEquals(new int[] {1, 2, 3, 1, 2}, DPMSolverSinglestepScheduler.orderList(5, 3, true));
        assertArrayEquals(new int[] {1, 2, 1, 1}, DPMSolverSinglestepScheduler.orderList(4, 2, true));
        assertArrayEquals(new int[] {1, 2, 1}, DPMSolverSinglestepScheduler.orderList(3, 2, true));
        assertArrayEquals(new int[] {1, 2, 1, 2}, DPMSolverSinglestepScheduler.orderList(4, 2, false));
        assertArrayEquals(new int[] {1, 2, 3, 1, 2, 3}, DPMSolverSinglestepScheduler.orderList(6, 3, false));
        assertArrayEquals(new int[] {1, 1, 1}, DPMSolverSinglestepScheduler.orderList(3, 1, true));
    }

    @Test
    void seedSequenceMatchesNumpy() {
        // np.random.SeedSequence(entropy, spawn_key=key, pool_size=24).generate_state(4), numpy 1.24.2.
        assertArrayEquals(new long[] {4025752534L, 2687548107L, 2326983537L, 1576567101L},
                new SeedSequence(BigInteger.ZERO, new long[0], 24).generateState(4));
        assertArrayEquals(new long[] {2754131497L, 939655175L, 291804590L, 2314777882L},
                new SeedSequence(BigInteger.valueOf((1L << 40) + 5), new long[0], 24).generateState(4));
        assertArrayEquals(new long[] {840100010L, 4216861537L, 2835682605L, 1180521712L},
                new SeedSequence(BigInteger.valueOf(1234), new long[] {0, 0}, 24).generateState(4));
        assertArrayEquals(new long[] {37933920L, 151045005L, 1673574477L, 2534250730L},
                new SeedSequence(BigInteger.valueOf(987654321), new long[] {(1L << 33) + 7, 40}, 24).generateState(4));
    }

    @Test
    void pythonRoundToSixDecimals() {
        assertEquals(0.029168, BrownianInterval.round(0.0291675366461277));
        assertEquals(25.146118, BrownianInterval.round(25.1461181640625));
        // Python rounds the exact binary value: 5e-7 is a hair below 0.0000005, 2.5e-6 a hair above.
        assertEquals(0.0, BrownianInterval.round(0.0000005));
        assertEquals(3e-6, BrownianInterval.round(0.0000025));
    }
}
