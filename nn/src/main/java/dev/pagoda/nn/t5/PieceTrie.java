package dev.pagoda.nn.t5;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A byte trie over UTF-8 piece strings: walking it from a position of the normalised text visits
 * every piece that starts there, shortest first, which is the order the reference's double-array
 * {@code traverse} reports them in.
 */
final class PieceTrie {

    static final int NONE = -1;

    private final Map<Long, Integer> edges = new HashMap<>();
    private int[] values = {NONE};
    private int nodes = 1;

    void add(byte[] key, int value) {
        int node = 0;
        for (byte b : key) {
            int next = child(node, b);
            if (next == NONE) {
                next = nodes++;
                if (nodes > values.length) {
                    int old = values.length;
                    values = Arrays.copyOf(values, old * 2);
                    Arrays.fill(values, old, values.length, NONE);
                }
                edges.put(edgeKey(node, b), next);
            }
            node = next;
        }
        values[node] = value;
    }

    /** The node reached from {@code node} by byte {@code b}, or {@link #NONE}. */
    int child(int node, byte b) {
        Integer n = edges.get(edgeKey(node, b));
        return n == null ? NONE : n;
    }

    /** The value stored at {@code node}, or {@link #NONE} when no key ends there. */
    int value(int node) {
        return values[node];
    }

    /** Length in bytes of the longest key that is a prefix of {@code s[pos..]}, or 0. */
    int longestMatch(byte[] s, int pos) {
        int node = 0;
        int best = 0;
        for (int i = pos; i < s.length; i++) {
            node = child(node, s[i]);
            if (node == NONE) {
                break;
            }
            if (values[node] != NONE) {
                best = i - pos + 1;
            }
        }
        return best;
    }

    private static long edgeKey(int node, byte b) {
        return (long) node << 8 | (b & 0xFF);
    }
}
