package dev.pagoda.tensor;

/**
 * How far a computed tensor is from a reference, in the measure the golden fixtures use:
 * {@code rel = max|got − ref| / max(1, max|ref|)}. NaN anywhere makes both measures NaN.
 */
public record Difference(double maxAbs, double maxRef, double rel) {

    public static Difference of(Tensor got, Tensor ref) {
        Shapes.requireSame("compare", got.shape(), ref.shape());
        float[] a = got.toFloatArray();
        float[] b = ref.toFloatArray();
        double maxAbs = 0;
        double maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return new Difference(Double.NaN, Double.NaN, Double.NaN);
            }
            maxAbs = Math.max(maxAbs, d);
            maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        return new Difference(maxAbs, maxRef, maxAbs / Math.max(1.0, maxRef));
    }

    /** True when {@link #rel} is within {@code tolerance} (false for NaN). */
    public boolean within(double tolerance) {
        return rel <= tolerance;
    }

    @Override
    public String toString() {
        return String.format("max|diff| %.3g, max|ref| %.3g, rel %.3g", maxAbs, maxRef, rel);
    }
}
