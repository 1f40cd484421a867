package dev.pagoda.diffusion.fuzz;

import java.nio.file.Path;
import java.util.Random;

/** One parser of untrusted input, driven with generated and mutated inputs. */
interface FuzzTarget {

    /** Short name used in reports and for saved failing inputs. */
    String name();

    /** The input of one case, drawn from {@code r} (seeded per case, so a case number replays it). */
    byte[] next(Random r);

    /**
     * Feeds {@code input} to the parser. Returning normally or throwing a named Pagoda exception is
     * acceptable; anything else is a finding.
     *
     * @param scratch a directory this target may overwrite freely
     */
    void run(byte[] input, Path scratch) throws Exception;
}
