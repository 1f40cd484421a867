package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;

/**
 * Accumulates the comparisons of one case: every tensor against its reference and tolerance
 * ({@code rel = max|got − ref| / max(1, max|ref|)}, or max abs where the README says so); remembers
 * the worst one relative to its tolerance and every failure.
 */
final class Checks {

    private final String caseName;
    private String worst = "-";
    private double worstError;
    private double worstRatio = -1;
    private final StringBuilder failures = new StringBuilder();
    private int count;

    Checks(String caseName) {
        this.caseName = caseName;
    }

    /** Relative check. */
    void rel(String what, Tensor got, Tensor ref, double tol) {
        Difference d = Difference.of(got.backend().toHost(got), ref);
        record(what, d.rel(), tol);
    }

    /** Absolute check (max |got − ref|). */
    void abs(String what, Tensor got, Tensor ref, double tol) {
        Difference d = Difference.of(got.backend().toHost(got), ref);
        record(what, d.maxAbs(), tol);
    }

    /** Exact equality of two values (ids, names); error 0 or 1. */
    void exact(String what, Object got, Object ref) {
        boolean eq = java.util.Objects.deepEquals(got, ref);
        track(what, eq ? 0 : 1, 0);
        if (!eq && failures.length() < 600) {
            failures.append(" [").append(what).append(": got ").append(abbrev(got)).append(", expected ")
                    .append(abbrev(ref)).append(']');
        }
    }

    private static String abbrev(Object o) {
        String s = o instanceof int[] a ? java.util.Arrays.toString(a)
                : o instanceof long[] a ? java.util.Arrays.toString(a)
                : o instanceof float[] a ? java.util.Arrays.toString(a) : String.valueOf(o);
        return s.length() > 120 ? s.substring(0, 117) + "..." : s;
    }

    void record(String what, double error, double tol) {
        if (!track(what, error, tol) && failures.length() < 600) {
            failures.append(" [").append(what).append(String.format(" %.3g > %.3g]", error, tol));
        }
    }

    /** Counts a comparison and updates the worst one; returns whether it is within tolerance. */
    private boolean track(String what, double error, double tol) {
        count++;
        boolean ok = error <= tol; // false for NaN
        double ratio = tol > 0 ? error / tol : (error == 0 ? 0 : Double.POSITIVE_INFINITY);
        if (Double.isNaN(error)) {
            ratio = Double.POSITIVE_INFINITY;
        }
        if (ratio > worstRatio) {
            worstRatio = ratio;
            worst = what;
            worstError = error;
        }
        return ok;
    }

    CaseResult result() {
        if (count == 0) {
            return CaseResult.failed(caseName, "nothing was compared");
        }
        boolean passed = failures.isEmpty();
        return new CaseResult(caseName, passed, worst, worstError,
                passed ? count + " checks" : "exceeds tolerance:" + failures);
    }
}
