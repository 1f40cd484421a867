package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.golden.GoldenFixtures;

/** What a conformance run works on: a fixture folder (read by {@link GoldenFixtures}) and the backend under test. */
record Fixtures(GoldenFixtures golden, Backend backend) {
}
