package dev.pagoda.diffusion.guidance;

import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The guidance plan of one pipeline call: which guidance terms the denoiser batch holds, in which
 * rows, and how its output becomes one prediction. It is the one place the batch layout is decided:
 *
 * <pre>
 * CFG + PAG: [uncond, cond, perturbed]     PAG only: [cond, perturbed]
 * CFG only:  [uncond, cond]                neither:  [cond]
 * </pre>
 * each term a chunk of {@link #images()} rows (one per image of the prompt). Build it once per call
 * with {@link #of}; it is immutable, so nothing about a call lives on the pipeline or its modules.
 *
 * <p>Conditioning goes through two methods, which are also how a pipeline adds its own rows:
 * <ul>
 *   <li>{@link #conditioning(Tensor, Tensor)} for anything that differs between the negative and the
 *       positive prompt (text embeddings, pooled embeddings, IP-Adapter image embeddings): the
 *       uncond chunk gets the negative, the cond and perturbed chunks the positive;</li>
 *   <li>{@link #repeat(Tensor)} for anything every term shares (the latents, SDXL time ids, a
 *       ControlNet image, inpainting mask latents).</li>
 * </ul>
 * Both take a tensor of 1 row (repeated per image) or of {@code images} rows. Built this way, the
 * perturbed chunk is an exact copy of the cond chunk, which is what {@link #pagPlan()} promises the
 * denoiser (it forks the perturbed branch at the first perturbed layer on that promise).
 *
 * <p>The denoiser (UNet, ControlNet-fed UNet, a transformer such as PixArt's) receives
 * {@link #pagPlan()} as its only PAG input and its attention modules pass the plan's identity rows
 * to the kernel. Its output goes back through {@link #combine(Tensor, float)}, or
 * {@link #term(Tensor, Term)} to take one term apart.
 */
public final class GuidedBatch {

    /** A chunk of the batch. */
    public enum Term { UNCOND, COND, PERTURBED }

    private final Guidance guidance;
    private final int images;
    private final List<Term> terms;
    private final PagPlan pag;

    private GuidedBatch(Guidance guidance, int images, List<Term> terms, PagPlan pag) {
        this.guidance = guidance;
        this.images = images;
        this.terms = terms;
        this.pag = pag;
    }

    /**
     * The plan for {@code images} images per prompt.
     *
     * @param guidance   the scales; PAG is on iff {@link Guidance#pag()}
     * @param pagModules the denoiser's self-attention modules PAG perturbs (its selected
     *                   {@code pag_applied_layers}); ignored when PAG is off
     * @throws IllegalArgumentException when PAG is on and no module is given, or {@code images < 1}
     */
    public static GuidedBatch of(Guidance guidance, int images, List<Attention> pagModules) {
        if (images < 1) {
            throw new IllegalArgumentException("images per prompt must be >= 1, got " + images);
        }
        List<Term> terms = new ArrayList<>(3);
        if (guidance.cfg()) {
            terms.add(Term.UNCOND);
        }
        terms.add(Term.COND);
        PagPlan plan = PagPlan.NONE;
        if (guidance.pag()) {
            if (pagModules == null || pagModules.isEmpty()) {
                throw new IllegalArgumentException("PAG is on but no attention module is selected");
            }
            terms.add(Term.PERTURBED);
            plan = PagPlan.of(pagModules, terms.size() * images, images);
        }
        return new GuidedBatch(guidance, images, List.copyOf(terms), plan);
    }

    public Guidance guidance() {
        return guidance;
    }

    /** Images per prompt: the rows of one chunk. */
    public int images() {
        return images;
    }

    /** The chunks in batch order. */
    public List<Term> terms() {
        return terms;
    }

    public boolean has(Term t) {
        return terms.contains(t);
    }

    /** Denoiser batch size: chunks × images. */
    public int rows() {
        return terms.size() * images;
    }

    /** The batch row of {@code image} in chunk {@code t}. */
    public int row(Term t, int image) {
        int c = terms.indexOf(t);
        if (c < 0 || image < 0 || image >= images) {
            throw new IllegalArgumentException("no row for " + t + " image " + image + " in " + terms + " x " + images);
        }
        return c * images + image;
    }

    /** What the denoiser's attention needs to know about PAG in this call ({@link PagPlan#NONE} without PAG). */
    public PagPlan pagPlan() {
        return pag;
    }

    /**
     * A tensor every term shares, in the batch layout: {@code x[1, ...]} or {@code x[images, ...]}
     * becomes {@code [rows, ...]}.
     */
    public Tensor repeat(Tensor x) {
        Tensor chunk = chunk(x, "shared conditioning");
        if (terms.size() == 1) {
            return chunk;
        }
        return Backend.cpu().concat(0, Collections.nCopies(terms.size(), chunk).toArray(Tensor[]::new));
    }

    /**
     * Per-prompt conditioning in the batch layout: {@code negative} for the uncond chunk (may be null
     * without CFG), {@code positive} for the cond and perturbed chunks; each {@code [1, ...]} or
     * {@code [images, ...]}.
     */
    public Tensor conditioning(Tensor negative, Tensor positive) {
        if (has(Term.UNCOND) && negative == null) {
            throw new IllegalArgumentException("classifier-free guidance needs the negative conditioning");
        }
        Tensor pos = chunk(positive, "positive conditioning");
        List<Tensor> parts = new ArrayList<>(terms.size());
        for (Term t : terms) {
            parts.add(t == Term.UNCOND ? chunk(negative, "negative conditioning") : pos);
        }
        return parts.size() == 1 ? parts.get(0) : Backend.cpu().concat(0, parts.toArray(Tensor[]::new));
    }

    /** The rows of chunk {@code t} of a denoiser output {@code out[rows, ...]} (a view). */
    public Tensor term(Tensor out, Term t) {
        requireBatch(out);
        return out.narrow(0, row(t, 0), images);
    }

    /**
     * The guided prediction {@code [images, ...]} from the denoiser output {@code out[rows, ...]} at
     * timestep {@code t} (see {@link Guidance#combine}).
     */
    public Tensor combine(Tensor out, float t) {
        requireBatch(out);
        if (terms.size() == 1) {
            return out.contiguous();
        }
        return guidance.combine(has(Term.UNCOND) ? term(out, Term.UNCOND) : null, term(out, Term.COND),
                has(Term.PERTURBED) ? term(out, Term.PERTURBED) : null, t);
    }

    private void requireBatch(Tensor out) {
        if (out.rank() == 0 || out.dim(0) != rows()) {
            throw new IllegalArgumentException("guidance: denoiser output " + Shapes.str(out.shape()) + " must have "
                    + rows() + " rows (" + terms + " x " + images + ")");
        }
    }

    private Tensor chunk(Tensor x, String what) {
        if (x == null || x.rank() == 0 || x.dim(0) != 1 && x.dim(0) != images) {
            throw new IllegalArgumentException(what + " must have 1 or " + images + " rows, got "
                    + (x == null ? "null" : Shapes.str(x.shape())));
        }
        if (x.dim(0) == images || images == 1) {
            return x;
        }
        return Backend.cpu().concat(0, Collections.nCopies(images, x).toArray(Tensor[]::new));
    }
}
