package dev.pagoda.diffusion.scheduler;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * numpy's {@code np.random.SeedSequence} (M. O'Neill's seed_seq_fe hashing, as in numpy 1.17+): the
 * entropy and spawn key become 32-bit words, are hashed into a pool of {@code poolSize} words, and
 * {@link #generateState} hashes the pool into output words. torchsde seeds each node of its Brownian
 * interval this way, so the numbers must match numpy's to the bit. All arithmetic is uint32.
 */
final class SeedSequence {

    private static final int INIT_A = 0x43b0d7e5;
    private static final int MULT_A = 0x931e8875;
    private static final int INIT_B = 0x8b51f9dd;
    private static final int MULT_B = 0x58f38ded;
    private static final int MIX_MULT_L = 0xca01f9dd;
    private static final int MIX_MULT_R = 0x4973f715;
    private static final int XSHIFT = 16;

    private final int[] pool;
    private int hashConst;

    /**
     * @param entropy a non-negative integer
     * @param spawnKey non-negative integers (may be empty)
     */
    SeedSequence(BigInteger entropy, long[] spawnKey, int poolSize) {
        List<Integer> words = words(entropy);
        if (spawnKey.length > 0) {
            while (words.size() < poolSize) {
                words.add(0);
            }
            for (long k : spawnKey) {
                words.addAll(words(BigInteger.valueOf(k)));
            }
        }
        this.pool = new int[poolSize];
        mixEntropy(words);
    }

    /** numpy's {@code _coerce_to_uint32_array} of one integer: little-endian 32-bit words, 0 as [0]. */
    private static List<Integer> words(BigInteger v) {
        if (v.signum() < 0) {
            throw new IllegalArgumentException("SeedSequence entropy must be non-negative, got " + v);
        }
        List<Integer> out = new ArrayList<>();
        BigInteger mask = BigInteger.valueOf(0xffffffffL);
        do {
            out.add(v.and(mask).intValue());
            v = v.shiftRight(32);
        } while (v.signum() > 0);
        return out;
    }

    private int hashmix(int value) {
        value ^= hashConst;
        hashConst *= MULT_A;
        value *= hashConst;
        value ^= value >>> XSHIFT;
        return value;
    }

    private static int mix(int x, int y) {
        int r = MIX_MULT_L * x - MIX_MULT_R * y;
        r ^= r >>> XSHIFT;
        return r;
    }

    private void mixEntropy(List<Integer> entropy) {
        hashConst = INIT_A;
        int n = pool.length;
        for (int i = 0; i < n; i++) {
            pool[i] = hashmix(i < entropy.size() ? entropy.get(i) : 0);
        }
        for (int src = 0; src < n; src++) {
            for (int dst = 0; dst < n; dst++) {
                if (src != dst) {
                    pool[dst] = mix(pool[dst], hashmix(pool[src]));
                }
            }
        }
        for (int src = n; src < entropy.size(); src++) {
            for (int dst = 0; dst < n; dst++) {
                pool[dst] = mix(pool[dst], hashmix(entropy.get(src)));
            }
        }
    }

    /** {@code generate_state(n)} with the default uint32 words, as unsigned values. */
    long[] generateState(int n) {
        int h = INIT_B;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int v = pool[i % pool.length];
            v ^= h;
            h *= MULT_B;
            v *= h;
            v ^= v >>> XSHIFT;
            out[i] = Integer.toUnsignedLong(v);
        }
        return out;
    }
}
