package dev.pagoda.diffusion.singlefile;

import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorInfo;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One component of a single-file checkpoint seen under diffusers' names: every tensor is a view over
 * the checkpoint's memory-mapped tensor (renamed, reshaped, or a row range of a fused tensor), so the
 * weights are not copied. The one exception is a transposed matrix (OpenCLIP's {@code text_projection}),
 * which the kernels need contiguous. Closing this store does not close the checkpoint: the checkpoint
 * is shared by every component and closed once by its owner.
 */
public final class ConvertedStore implements TensorStore {

    /** How a diffusers tensor is made from a checkpoint tensor. */
    public sealed interface View {
        int[] shape(int[] source);

        Tensor apply(Tensor source);
    }

    /** The tensor as it is. */
    public record Same() implements View {
        public int[] shape(int[] source) {
            return source;
        }

        public Tensor apply(Tensor t) {
            return t;
        }
    }

    /** A row range {@code [start, start + rows)} of dimension 0 (a part of a fused q/k/v projection). */
    public record Rows(int start, int rows) implements View {
        public int[] shape(int[] source) {
            int[] s = source.clone();
            s[0] = rows;
            return s;
        }

        /**
         * A new tensor over the row range of the mapped segment, offset 0: a weight arrives at the
         * kernels exactly as a tensor of its own file would, still without a copy.
         */
        public Tensor apply(Tensor t) {
            Tensor n = t.narrow(0, start, rows);
            if (t.storage() instanceof SegmentStorage s && t.isContiguous()) {
                long bytes = n.dtype().byteSize();
                return Tensor.wrap(s.segment().asSlice(n.offset() * bytes, n.numel() * bytes), n.dtype(), n.shape());
            }
            return n;
        }
    }

    /** The same elements in another shape (a 1×1 convolution kernel read as a linear weight). */
    public record Reshape(int[] target) implements View {
        public int[] shape(int[] source) {
            return target.clone();
        }

        public Tensor apply(Tensor t) {
            return t.reshape(target);
        }
    }

    /** The transpose of a matrix, copied once to be contiguous. */
    public record Transpose() implements View {
        public int[] shape(int[] source) {
            return new int[] {source[1], source[0]};
        }

        public Tensor apply(Tensor t) {
            return t.transpose(0, 1).contiguous();
        }
    }

    private record Entry(String source, View view) {
    }

    private final TensorStore checkpoint;
    private final String component;
    private final Map<String, Entry> entries;

    private ConvertedStore(TensorStore checkpoint, String component, Map<String, Entry> entries) {
        this.checkpoint = checkpoint;
        this.component = component;
        this.entries = entries;
    }

    /** Collects the diffusers-named entries of one component. */
    public static final class Builder {
        private final TensorStore checkpoint;
        private final String component;
        private final Map<String, Entry> entries = new LinkedHashMap<>();

        public Builder(TensorStore checkpoint, String component) {
            this.checkpoint = checkpoint;
            this.component = component;
        }

        /**
         * Adds {@code name} as {@code view} of the checkpoint tensor {@code source}.
         *
         * @throws CheckpointException when two checkpoint tensors would give the same diffusers name
         */
        public Builder put(String name, String source, View view) {
            Entry old = entries.putIfAbsent(name, new Entry(source, view));
            if (old != null) {
                throw new CheckpointException(checkpoint.describe() + ": both " + old.source() + " and " + source
                        + " convert to the " + component + " tensor " + name);
            }
            return this;
        }

        public Builder put(String name, String source) {
            return put(name, source, new Same());
        }

        public int size() {
            return entries.size();
        }

        public ConvertedStore build() {
            return new ConvertedStore(checkpoint, component, Collections.unmodifiableMap(new LinkedHashMap<>(entries)));
        }
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The checkpoint tensor {@code name} is made from. */
    public String sourceOf(String name) {
        return entry(name).source();
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(describe() + ": no tensor named " + name);
        }
        return e;
    }

    @Override
    public TensorInfo info(String name) {
        Entry e = entry(name);
        TensorInfo src = checkpoint.info(e.source());
        int[] shape = e.view().shape(src.shape());
        long bytes = Shapes.numel(shape) * src.dtype().byteSize();
        long begin = src.begin();
        if (e.view() instanceof Rows r) {
            begin += r.start() * (src.numel() / src.shape()[0]) * src.dtype().byteSize();
        } else if (Shapes.numel(shape) != src.numel()) {
            throw new CheckpointException(describe() + ": " + e.source() + " of shape " + Shapes.str(src.shape())
                    + " cannot be read as " + name + " of shape " + Shapes.str(shape));
        }
        return new TensorInfo(name, src.dtype(), shape, begin, begin + bytes);
    }

    @Override
    public Tensor tensor(String name) {
        Entry e = entry(name);
        return e.view().apply(checkpoint.tensor(e.source()));
    }

    @Override
    public String describe() {
        return checkpoint.describe() + " (" + component + ")";
    }

    /** Nothing to release: the checkpoint's owner closes it. */
    @Override
    public void close() {
    }
}
