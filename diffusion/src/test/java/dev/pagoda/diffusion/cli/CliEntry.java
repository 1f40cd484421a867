package dev.pagoda.diffusion.cli;

import java.io.PrintStream;

/**
 * The generate command without {@link Main#run}'s catch-all, for the fuzz suite: it must see the
 * exception itself to tell a named usage error from a crash.
 */
public final class CliEntry {

    private CliEntry() {
    }

    public static int generate(String[] argv, PrintStream out, PrintStream err) {
        return GenerateCommand.run(argv, out, err);
    }
}
