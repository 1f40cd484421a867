package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.Shapes;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * k-diffusion's DPM-Solver++ (2S) SDE sampler ({@code sample_dpmpp_sde}; diffusers'
 * {@code DPMSolverSDEScheduler}). Each step is two model evaluations in t = −log σ: an ancestral
 * half step to the midpoint of [t, t_next], then the full step from the same start using the
 * midpoint's x₀. Both add noise from a Brownian tree over [σ_min, σ_max] (torchsde's
 * {@code BrownianInterval}, see {@link BrownianInterval}), so the noise of a step depends only on the
 * seed and the σ interval, not on how many draws came before. As in diffusers the timestep table
 * interleaves the midpoint timesteps and {@link #order()} is 2.
 *
 * <p>Config fields: {@code noise_sampler_seed} (the tree's entropy; when null, one seed is drawn as
 * {@code torch.randint(0, 2**63 - 1)} from the {@link TorchGenerator} given to the first step, where
 * diffusers draws it from torch's global generator), {@code prediction_type} (epsilon,
 * v_prediction; diffusers does not implement sample), {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code timestep_spacing} (default linspace), {@code steps_offset}
 * and the beta schedule fields (defaults 0.00085 … 0.012). The σ arithmetic uses torch's float32
 * exp/log ({@link TorchFloatMath}), because the noise levels become tree query times.
 */
public final class DPMSolverSDEScheduler extends KDiffusionScheduler {

    public static final String CLASS_NAME = "DPMSolverSDEScheduler";

    private final Long noiseSamplerSeed;

    private BrownianInterval tree;
    /** The sample at the start of the current two-stage step, or null in the first stage. */
    private float[] firstSample;
    private float midPointSigma;

    public DPMSolverSDEScheduler(SchedulerConfig config) {
        super(config, kdpmBetas(config.with("rescale_betas_zero_snr", false)), CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION);
        Double seed = config.optionalNumber("noise_sampler_seed");
        if (seed != null && !(seed >= 0 && seed == Math.rint(seed) && seed < 0x1p63)) {
            throw config.error("noise_sampler_seed", "null or an integer in [0, 2^63)", seed);
        }
        this.noiseSamplerSeed = seed == null ? null : integerSeed(config);
    }

    /** The seed as an exact integer (a double would round seeds above 2^53). */
    private static Long integerSeed(SchedulerConfig config) {
        Object v = config.values().get("noise_sampler_seed");
        return v instanceof Number n && !(v instanceof Double) && !(v instanceof Float) ? n.longValue()
                : (long) config.number("noise_sampler_seed", 0);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public int order() {
        return 2;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        int n = numInferenceSteps;
        int numTrain = schedule.numTrainTimesteps();
        double[] ts = grid(numTrain, n);
        double[] levels = schedule.interpolateSigmas(ts);
        float[] sig = new float[ts.length + 1];
        if (sigmaSpacing == SigmaSpacing.EXPONENTIAL) {
            // torch.linspace(log σ_max, log σ_min, n).exp() in float32.
            float[] logs = NoiseSchedule.torchLinspace((float) Math.log(levels[0]),
                    (float) Math.log(levels[levels.length - 1]), n);
            levels = new double[n];
            for (int i = 0; i < n; i++) {
                levels[i] = TorchFloatMath.exp(logs[i]);
            }
        } else if (sigmaSpacing == SigmaSpacing.KARRAS) {
            levels = SigmaSpacing.KARRAS.levels(levels[levels.length - 1], levels[0], levels.length);
        }
        if (sigmaSpacing != SigmaSpacing.TABLE) {
            ts = new double[levels.length];
            for (int i = 0; i < levels.length; i++) {
                ts[i] = schedule.sigmaToTimestep(levels[i]);
            }
        }
        int m = levels.length;
        // The midpoint timesteps: σ at the middle of each step in t = −log σ.
        double[] mid = new double[m - 1];
        for (int i = 0; i < m - 1; i++) {
            double t = -Math.log(levels[i]);
            double tNext = -Math.log(levels[i + 1]);
            mid[i] = schedule.sigmaToTimestep(Math.exp(-(t + (tNext - t) * 0.5)));
        }
        for (int i = 0; i < m; i++) {
            sig[i] = (float) levels[i];
        }
        float[] timesteps = new float[2 * m - 1];
        timesteps[0] = (float) ts[0];
        for (int i = 1; i < m; i++) {
            timesteps[2 * i - 1] = (float) mid[i - 1];
            timesteps[2 * i] = (float) ts[i];
        }
        install(timesteps, interleave(sig, true));
        firstSample = null;
        tree = null;
    }

    /** The float64 grid of {@code set_timesteps} (this class keeps numpy's float64 timesteps). */
    private double[] grid(int numTrain, int n) {
        return switch (spacing) {
            case LINSPACE -> reversed(NumpyRange.linspace(0, numTrain - 1, n));
            case LEADING -> {
                int ratio = numTrain / n;
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (double) (n - 1 - i) * ratio + stepsOffset;
                }
                yield a;
            }
            case TRAILING -> {
                double[] a = NumpyRange.arange(numTrain, 0, -((double) numTrain / n));
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.rint(a[i]) - 1;
                }
                yield a;
            }
        };
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        int i = currentStep(timestep);
        float sigma = firstSample == null ? sigmas[i] : midPointSigma;
        return Latents.like(scaled(Latents.values(sample), sigma), sample);
    }

    private static float t(float sigma) {
        return -TorchFloatMath.log(sigma);
    }

    private static float sigmaOf(float t) {
        return TorchFloatMath.exp(-t);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        if (tree == null) {
            tree = newTree(sample.shape(), noise);
        } else if (!Arrays.equals(tree.shape(), sample.shape())) {
            throw new IllegalArgumentException(CLASS_NAME + ".step: sample has shape "
                    + Shapes.str(sample.shape()) + " but this run's Brownian tree was made for "
                    + Shapes.str(tree.shape()) + "; call setTimesteps to start a new run");
        }
        boolean first = firstSample == null;
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaNext = first ? sigmas[i + 1] : sigmas[i];
        float t = t(sigma);
        float tNext = t(sigmaNext);
        float tProposed = t + (tNext - t) * 0.5f;
        float[] x = Latents.values(sample);
        float sigmaInput = first ? sigma : sigmaOf(tProposed);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, sigmaInput);
        float[] prev = new float[x.length];
        if (sigmaNext == 0) {
            float dt = sigmaNext - sigma;
            for (int k = 0; k < x.length; k++) {
                float d = (x[k] - x0[k]) / sigma;
                prev[k] = x[k] + d * dt;
            }
        } else {
            float[] from = x;
            if (first) {
                tNext = tProposed;
            } else {
                from = firstSample;
            }
            float sigmaFrom = sigmaOf(t);
            float sigmaTo = sigmaOf(tNext);
            float toSq = sigmaTo * sigmaTo;
            float fromSq = sigmaFrom * sigmaFrom;
            float up = (float) Math.sqrt(toSq * (fromSq - toSq) / fromSq);
            float sigmaUp = up < sigmaTo ? up : sigmaTo;
            float sigmaDown = (float) Math.sqrt(toSq - sigmaUp * sigmaUp);
            float ancestralT = t(sigmaDown);
            float c1 = sigmaOf(ancestralT) / sigmaOf(t);
            float c2 = TorchFloatMath.expm1(t - ancestralT);
            float[] w = noise(sigmaOf(t), sigmaOf(tNext));
            for (int k = 0; k < x.length; k++) {
                float p = c1 * from[k] - c2 * x0[k];
                prev[k] = p + w[k] * 1.0f * sigmaUp;
            }
            if (first) {
                firstSample = x;
                midPointSigma = sigmaOf(tNext);
            } else {
                firstSample = null;
            }
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }

    /** {@code BrownianTreeNoiseSampler(sample, σ_min>0, σ_max, seed)}. */
    private BrownianInterval newTree(int[] shape, NoiseSource noise) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float s : sigmas) {
            if (s > 0) {
                min = Math.min(min, s);
            }
            max = Math.max(max, s);
        }
        long seed;
        if (noiseSamplerSeed != null) {
            seed = noiseSamplerSeed;
        } else if (noise instanceof TorchGenerator g) {
            seed = Long.remainderUnsigned(g.nextLong64(), Long.MAX_VALUE);
        } else {
            throw new IllegalArgumentException(CLASS_NAME + ": the config has no \"noise_sampler_seed\" and the "
                    + "noise source is not a seeded TorchGenerator to draw one from; set noise_sampler_seed");
        }
        return new BrownianInterval(min, max, shape, BigInteger.valueOf(seed));
    }

    /** The sampler's normalised increment: (W(σ_next) − W(σ)) / √|σ_next − σ|. */
    private float[] noise(float sigma, float sigmaNext) {
        float lo = sigma < sigmaNext ? sigma : sigmaNext;
        float hi = sigma < sigmaNext ? sigmaNext : sigma;
        float sign = sigma < sigmaNext ? 1.0f : -1.0f;
        float[] w = tree.increment(lo, hi);
        float denom = (float) Math.sqrt(Math.abs(sigmaNext - sigma));
        for (int k = 0; k < w.length; k++) {
            w[k] = w[k] * sign / denom;
        }
        return w;
    }
}
