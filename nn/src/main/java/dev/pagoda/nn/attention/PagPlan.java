package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Perturbed-attention guidance for one denoiser call: which self-attention modules are perturbed and
 * which batch rows they perturb. It is the only way PAG reaches a model: the denoiser passes it down
 * to every {@link Attention}, which hands {@link #identityRows(Attention)} to the attention kernel
 * ({@code Backend.attention(..., identityRows)}); no module changes state, so one set of modules
 * can serve concurrent calls with different plans.
 *
 * <p>The perturbed rows are always the last {@link #perturbedRows()} of the batch, and their inputs
 * are exact copies of the {@code perturbedRows()} rows just before them (diffusers' layout: the
 * perturbed chunk repeats the cond chunk). Whoever builds a plan guarantees that; the denoiser relies
 * on it to fork the perturbed branch from the cond branch at the first perturbed layer instead of
 * running identical rows twice.
 *
 * <p>Modules are matched by instance, not by name, so a plan built for one denoiser means nothing to
 * another (a ControlNet receiving the same plan finds none of its modules in it, as in diffusers,
 * where PAG processors are set on the UNet only).
 */
public final class PagPlan {

    /** No PAG: every row attends normally. */
    public static final PagPlan NONE = new PagPlan(Set.of(), 0, 0);

    private final Set<Attention> modules;
    private final int batch;
    private final int perturbedRows;
    private final boolean[] rows;

    private PagPlan(Set<Attention> modules, int batch, int perturbedRows) {
        this.modules = modules;
        this.batch = batch;
        this.perturbedRows = perturbedRows;
        this.rows = new boolean[batch];
        for (int i = batch - perturbedRows; i < batch; i++) {
            rows[i] = true;
        }
    }

    /**
     * A plan perturbing {@code modules} (self-attention) on the last {@code perturbedRows} rows of a
     * batch of {@code batch}, which repeat the inputs of the rows before them.
     *
     * @throws IllegalArgumentException for a cross-attention module, or rows that do not fit the
     *                                  layout ({@code 0 < perturbedRows}, {@code 2·perturbedRows <= batch})
     */
    public static PagPlan of(Collection<Attention> modules, int batch, int perturbedRows) {
        if (modules.isEmpty()) {
            return NONE;
        }
        if (perturbedRows <= 0 || 2 * perturbedRows > batch) {
            throw new IllegalArgumentException("PAG plan: " + perturbedRows + " perturbed rows in a batch of "
                    + batch + " (they must be the trailing copy of as many rows)");
        }
        Set<Attention> set = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Attention a : modules) {
            if (a.isCrossAttention()) {
                throw new IllegalArgumentException("PAG applies to self-attention only, not cross-attention");
            }
            set.add(a);
        }
        return new PagPlan(Collections.unmodifiableSet(set), batch, perturbedRows);
    }

    /** Whether any module is perturbed. */
    public boolean isEmpty() {
        return modules.isEmpty();
    }

    /** Batch size the plan was made for (0 for {@link #NONE}). */
    public int batch() {
        return batch;
    }

    /** Number of trailing perturbed rows (0 for {@link #NONE}). */
    public int perturbedRows() {
        return perturbedRows;
    }

    public boolean perturbs(Attention a) {
        return modules.contains(a);
    }

    /** Whether any self-attention module inside {@code subtree} is perturbed. */
    public boolean perturbsAnyIn(Module subtree) {
        if (modules.isEmpty()) {
            return false;
        }
        for (Attention a : PagLayers.selfAttentions(subtree).values()) {
            if (modules.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The kernel's identity rows for {@code a} in a batch of {@code b}: one flag per row, true for a
     * perturbed row, or null when {@code a} is not perturbed.
     *
     * @throws IllegalArgumentException when {@code a} is perturbed and {@code b} is not the plan's batch
     */
    public boolean[] identityRows(Attention a, int b) {
        if (!modules.contains(a)) {
            return null;
        }
        if (b != batch) {
            throw new IllegalArgumentException("PAG plan made for a batch of " + batch + " used with a batch of " + b);
        }
        return rows.clone();
    }
}
