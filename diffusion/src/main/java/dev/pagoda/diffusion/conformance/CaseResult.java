package dev.pagoda.diffusion.conformance;

/**
 * The verdict on one golden case: pass or fail, the tensor (or item) with the largest error against
 * its tolerance, that error, and a message (the reason for a failure, "unsupported: …" for a case kind
 * Pagoda cannot run yet).
 */
public record CaseResult(String name, boolean passed, String worst, double error, String message) {

    public static CaseResult unsupported(String name, String what) {
        return new CaseResult(name, false, "-", Double.NaN, "unsupported: " + what);
    }

    public static CaseResult failed(String name, String message) {
        return new CaseResult(name, false, "-", Double.NaN, message);
    }

    public String line() {
        String err = Double.isNaN(error) ? "-" : String.format("%.3g", error);
        return String.format("%s %-32s worst %-44s err %-9s %s", passed ? "PASS" : "FAIL", name, worst, err,
                message == null ? "" : message).stripTrailing();
    }
}
