package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The linear multistep method of k-diffusion ({@code sample_lms}; diffusers'
 * {@code LMSDiscreteScheduler}): x ← x + Σ_j c_j·d_{i−j} over the last (up to four) derivatives
 * d = (x − x₀)/σ, where c_j integrates the Lagrange basis polynomial of σ_{i−j} over [σ_i, σ_{i+1}].
 * The reference integrates with scipy's {@code quad}; the integrand is a polynomial of degree ≤ 3,
 * so a 4-point Gauss–Legendre rule gives the same integral to rounding.
 *
 * <p>Config fields: those of {@link KDiffusionScheduler} and {@code prediction_type} (epsilon,
 * v_prediction, sample); beta defaults 0.0001 and 0.02. The step order (diffusers' {@code order}
 * step argument, default 4) is {@link #setLmsOrder}.
 */
public final class LMSDiscreteScheduler extends KDiffusionScheduler {

    public static final String CLASS_NAME = "LMSDiscreteScheduler";

    private static final double[] GL_X = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
        0.8611363115940526};
    private static final double[] GL_W = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
        0.3478548451374538};

    private final ArrayDeque<float[]> derivatives = new ArrayDeque<>();
    private int lmsOrder = 4;

    public LMSDiscreteScheduler(SchedulerConfig config) {
        super(config, NoiseSchedule.fromConfig(config, true), CLASS_NAME,
                PredictionType.EPSILON, PredictionType.V_PREDICTION, PredictionType.SAMPLE);
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    /** The number of past derivatives combined per step (diffusers' {@code step(order=…)}, 1 to 4). */
    public void setLmsOrder(int order) {
        if (order < 1 || order > 4) {
            throw new IllegalArgumentException(CLASS_NAME + ".setLmsOrder: order must be 1 to 4, got " + order);
        }
        this.lmsOrder = order;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        requirePositiveSteps(CLASS_NAME, numInferenceSteps);
        Base b = base(numInferenceSteps, false);
        install(toFloat(b.timesteps()), b.sigmas());
        derivatives.clear();
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, float timestep) {
        return Latents.like(scaled(Latents.values(sample), sigmas[currentStep(timestep)]), sample);
    }

    @Override
    public SchedulerOutput step(Tensor modelOutput, float timestep, Tensor sample, NoiseSource noise) {
        Latents.requireSameShape(CLASS_NAME + ".step", "modelOutput", modelOutput, "sample", sample);
        int i = currentStep(timestep);
        float sigma = sigmas[i];
        float[] x = Latents.values(sample);
        float[] x0 = predictOriginal(Latents.values(modelOutput), x, sigma);
        float[] d = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            d[k] = (x[k] - x0[k]) / sigma;
        }
        derivatives.addLast(d);
        if (derivatives.size() > lmsOrder) {
            derivatives.removeFirst();
        }
        int order = Math.min(i + 1, lmsOrder);
        List<float[]> newestFirst = new ArrayList<>();
        for (Iterator<float[]> it = derivatives.descendingIterator(); it.hasNext(); ) {
            newestFirst.add(it.next());
        }
        float[] sum = new float[x.length];
        for (int j = 0; j < order; j++) {
            float c = (float) coefficient(order, i, j);
            float[] dj = newestFirst.get(j);
            for (int k = 0; k < x.length; k++) {
                sum[k] = sum[k] + c * dj[k];
            }
        }
        float[] prev = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            prev[k] = x[k] + sum[k];
        }
        stepIndex++;
        return new SchedulerOutput(Latents.like(prev, sample), Latents.like(x0, sample));
    }

    /** ∫_{σ_t}^{σ_{t+1}} Π_{k≠j} (τ − σ_{t−k}) / (σ_{t−j} − σ_{t−k}) dτ. */
    private double coefficient(int order, int t, int j) {
        double a = sigmas[t];
        double b = sigmas[t + 1];
        double mid = (a + b) / 2;
        double half = (b - a) / 2;
        double integral = 0;
        for (int q = 0; q < GL_X.length; q++) {
            double tau = mid + half * GL_X[q];
            double prod = 1;
            for (int k = 0; k < order; k++) {
                if (k != j) {
                    prod *= (tau - sigmas[t - k]) / (sigmas[t - j] - sigmas[t - k]);
                }
            }
            integral += GL_W[q] * prod;
        }
        return integral * half;
    }
}
