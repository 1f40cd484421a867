package dev.pagoda.diffusion.scheduler;

/**
 * numpy's {@code linspace} and {@code arange} in float64, operation for operation, so that the
 * timestep schedules diffusers builds with them (and rounds, or casts to float32) come out identical.
 */
final class NumpyRange {

    private NumpyRange() {
    }

    /** {@code np.linspace(start, stop, num)} (endpoint included): {@code i*step + start}, last = stop. */
    static double[] linspace(double start, double stop, int num) {
        if (num < 0) {
            throw new IllegalArgumentException("linspace: num must be >= 0, got " + num);
        }
        double[] y = new double[num];
        int div = num - 1;
        double delta = stop - start;
        if (div > 0) {
            double step = delta / div;
            for (int i = 0; i < num; i++) {
                // numpy divides first when the step underflows to zero, keeping the endpoints apart.
                y[i] = step == 0 ? (i / (double) div) * delta + start : i * step + start;
            }
            y[num - 1] = stop;
        } else if (num == 1) {
            y[0] = 0 * delta + start;
        }
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)}: length {@code ceil((stop-start)/step)}; element i is
     * {@code start + i*delta} with {@code delta = (start+step) - start}, as numpy's fill computes it.
     */
    static double[] arange(double start, double stop, double step) {
        if (step == 0 || !Double.isFinite(step)) {
            throw new IllegalArgumentException("arange: step must be finite and non-zero, got " + step);
        }
        double len = Math.ceil((stop - start) / step);
        if (!(len > 0)) {
            return new double[0];
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("arange: " + len + " elements");
        }
        double[] y = new double[(int) len];
        y[0] = start;
        if (y.length > 1) {
            y[1] = start + step;
            double delta = y[1] - start;
            for (int i = 2; i < y.length; i++) {
                y[i] = start + i * delta;
            }
        }
        return y;
    }
}
