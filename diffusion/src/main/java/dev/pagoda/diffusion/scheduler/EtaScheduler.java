package dev.pagoda.diffusion.scheduler;

/**
 * A scheduler whose step takes diffusers' {@code eta}: the share of fresh noise per step (DDIM's
 * η of Song et al., TCD's gamma). Pipelines pass their {@code eta} call option here.
 */
public interface EtaScheduler extends Scheduler {

    /** Sets η for the following steps; η must be finite and ≥ 0. */
    void setEta(float eta);
}
