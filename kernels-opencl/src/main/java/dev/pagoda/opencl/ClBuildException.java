package dev.pagoda.opencl;

/** The OpenCL compiler rejected Pagoda's kernels; the message carries the build options and the device's build log. */
public final class ClBuildException extends RuntimeException {

    ClBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
