package dev.pagoda.diffusion.scheduler;

import dev.pagoda.nn.ConfigException;
import org.apache.commons.math3.distribution.BetaDistribution;

/**
 * How the inference noise levels are spaced between σ_max and σ_min: taken from the training table
 * at the chosen timesteps, or redistributed by one of the k-diffusion schedules
 * ({@code use_karras_sigmas}, {@code use_exponential_sigmas}, {@code use_beta_sigmas},
 * DPM-Solver's {@code use_lu_lambdas}).
 */
enum SigmaSpacing {
    /** σ interpolated from the training table at each timestep. */
    TABLE,
    /** Karras et al. 2022, ρ = 7: σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ. */
    KARRAS,
    /** Evenly spaced in log σ. */
    EXPONENTIAL,
    /** Spaced by the quantiles of Beta(0.6, 0.6) ("Beta Sampling is All You Need"). */
    BETA,
    /** DPM-Solver's uniform log-SNR steps, from the float32 log σ table. */
    LU_LAMBDAS;

    static SigmaSpacing fromConfig(SchedulerConfig config, boolean luAllowed) {
        boolean karras = config.bool("use_karras_sigmas", false);
        boolean exponential = config.bool("use_exponential_sigmas", false);
        boolean beta = config.bool("use_beta_sigmas", false);
        boolean lu = luAllowed && config.bool("use_lu_lambdas", false);
        int set = (karras ? 1 : 0) + (exponential ? 1 : 0) + (beta ? 1 : 0);
        if (set > 1) {
            throw new ConfigException("scheduler config " + config.source()
                    + ": only one of \"use_karras_sigmas\", \"use_exponential_sigmas\", \"use_beta_sigmas\""
                    + " may be true");
        }
        if (karras) {
            return KARRAS;
        }
        if (lu) {
            return LU_LAMBDAS;
        }
        return exponential ? EXPONENTIAL : beta ? BETA : TABLE;
    }

    /**
     * The {@code n} noise levels from {@code sigmaMax} down to {@code sigmaMin} (not used for
     * {@link #TABLE}; for {@link #LU_LAMBDAS} the arguments are log σ values).
     */
    double[] levels(double sigmaMin, double sigmaMax, int n) {
        double[] ramp = NumpyRange.linspace(0, 1, n);
        double[] out = new double[n];
        switch (this) {
            case KARRAS -> {
                double rho = 7.0;
                double minInvRho = Math.pow(sigmaMin, 1 / rho);
                double maxInvRho = Math.pow(sigmaMax, 1 / rho);
                for (int i = 0; i < n; i++) {
                    out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
                }
            }
            case EXPONENTIAL -> {
                double[] logs = NumpyRange.linspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
                for (int i = 0; i < n; i++) {
                    out[i] = Math.exp(logs[i]);
                }
            }
            case BETA -> {
                BetaDistribution dist = new BetaDistribution(null, 0.6, 0.6, 1e-15);
                for (int i = 0; i < n; i++) {
                    double ppf = dist.inverseCumulativeProbability(1 - ramp[i]);
                    out[i] = sigmaMin + ppf * (sigmaMax - sigmaMin);
                }
            }
            case LU_LAMBDAS -> {
                // rho = 1: the lambdas are linear between the ends; σ = exp(λ).
                for (int i = 0; i < n; i++) {
                    out[i] = Math.exp(sigmaMax + ramp[i] * (sigmaMin - sigmaMax));
                }
            }
            case TABLE -> throw new IllegalStateException("TABLE spacing takes sigmas from the training table");
        }
        return out;
    }
}
