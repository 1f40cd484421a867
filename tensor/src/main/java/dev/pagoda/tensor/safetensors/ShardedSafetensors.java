package dev.pagoda.tensor.safetensors;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A checkpoint split over several safetensors files, described by a {@code *.safetensors.index.json}:
 * <pre>{"metadata": {"total_size": 123}, "weight_map": {"tensor name": "shard file name", ...}}</pre>
 * Shard names are resolved against the index's directory and must stay inside it.
 *
 * <p>All shards are opened when the store is opened: that validates every header and lets the
 * store check the index against the shards (every listed tensor is in its shard, no shard holds a
 * tensor listed elsewhere or not at all) before anything is loaded. Opening maps the files but
 * reads only their headers. {@code metadata.total_size} is checked for type and exposed, not
 * compared: converters in the wild write it inconsistently, and the shards are the truth.
 */
public final class ShardedSafetensors implements TensorStore {

    /** Index files above this are refused rather than read (real ones are a few MB at most). */
    static final long MAX_INDEX = 100_000_000L;

    private final Path index;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> shards;
    private final OptionalLong totalSize;

    private ShardedSafetensors(Path index, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> shards,
            OptionalLong totalSize) {
        this.index = index;
        this.byTensor = byTensor;
        this.shards = shards;
        this.totalSize = totalSize;
    }

    /**
     * Reads {@code indexFile}, opens every shard it names and checks them against each other.
     *
     * @throws SafetensorsException naming the index file (and the shard, where one is at fault)
     */
    public static ShardedSafetensors open(Path indexFile) {
        Map<String, Object> json = readIndex(indexFile);
        OptionalLong totalSize = parseTotalSize(indexFile, json.get("metadata"));
        Map<String, String> weightMap = parseWeightMap(indexFile, json.get("weight_map"));

        Path dir = indexFile.toAbsolutePath().normalize().getParent();
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                if (!opened.containsKey(e.getValue())) {
                    opened.put(e.getValue(), openShard(indexFile, dir, e.getValue(), e.getKey()));
                }
            }
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile shard = opened.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new SafetensorsException(indexFile, "weight_map puts tensor " + Json.quote(e.getKey())
                            + " in shard " + Json.quote(e.getValue()) + ", which does not contain it");
                }
                byTensor.put(e.getKey(), shard);
            }
            for (Map.Entry<String, SafetensorsFile> s : opened.entrySet()) {
                for (String name : s.getValue().names()) {
                    String listed = weightMap.get(name);
                    if (listed == null) {
                        throw new SafetensorsException(indexFile, "shard " + Json.quote(s.getKey()) + " holds tensor "
                                + Json.quote(name) + ", which weight_map does not list");
                    }
                    if (!listed.equals(s.getKey())) {
                        throw new SafetensorsException(indexFile, "duplicate tensor " + Json.quote(name)
                                + ": it is in shard " + Json.quote(s.getKey()) + " and in shard " + Json.quote(listed)
                                + " (where weight_map puts it)");
                    }
                }
            }
            return new ShardedSafetensors(indexFile, Collections.unmodifiableMap(byTensor),
                    List.copyOf(opened.values()), totalSize);
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, Object> readIndex(Path indexFile) {
        if (!Files.isRegularFile(indexFile)) {
            throw new SafetensorsException(indexFile, Files.exists(indexFile) ? "not a regular file" : "no such file");
        }
        String text;
        try {
            long size = Files.size(indexFile);
            if (size > MAX_INDEX) {
                throw new SafetensorsException(indexFile, "index file of " + size + " bytes exceeds the limit of "
                        + MAX_INDEX + " bytes");
            }
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(indexFile)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(indexFile, "index is not valid UTF-8", e);
        } catch (IOException e) {
            throw new SafetensorsException(indexFile, "cannot read index: " + e, e);
        }
        try {
            return Json.parseObject(text);
        } catch (JsonException e) {
            throw new SafetensorsException(indexFile, "index is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static OptionalLong parseTotalSize(Path indexFile, Object metadata) {
        if (metadata == null) {
            return OptionalLong.empty();
        }
        if (!(metadata instanceof Map<?, ?> m)) {
            throw new SafetensorsException(indexFile, "metadata must be an object, found " + Json.typeName(metadata));
        }
        Object v = m.get("total_size");
        if (v == null) {
            return OptionalLong.empty();
        }
        if (v instanceof Long n && n >= 0) {
            return OptionalLong.of(n);
        }
        // Some writers emit the size as a float; a whole non-negative value still means bytes.
        if (v instanceof Double d && d >= 0 && d <= 0x1p62 && d == Math.rint(d)) {
            return OptionalLong.of(d.longValue());
        }
        throw new SafetensorsException(indexFile, "metadata.total_size must be a non-negative integer, found "
                + (v instanceof String s ? Json.quote(s) : String.valueOf(v)));
    }

    private static Map<String, String> parseWeightMap(Path indexFile, Object v) {
        if (v == null) {
            throw new SafetensorsException(indexFile, "weight_map is missing");
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafetensorsException(indexFile, "weight_map must be an object, found " + Json.typeName(v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String shard) || shard.isEmpty()) {
                throw new SafetensorsException(indexFile, "weight_map entry " + Json.quote((String) e.getKey())
                        + " must name a shard file, found " + (e.getValue() instanceof String ? "an empty string"
                        : Json.typeName(e.getValue())));
            }
            out.put((String) e.getKey(), shard);
        }
        return out;
    }

    private static SafetensorsFile openShard(Path indexFile, Path dir, String shard, String firstTensor) {
        Path file;
        try {
            file = dir.resolve(shard).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new SafetensorsException(indexFile, "shard name " + Json.quote(shard) + " is not a valid path");
        }
        if (!file.startsWith(dir) || file.equals(dir)) {
            throw new SafetensorsException(indexFile, "shard name " + Json.quote(shard)
                    + " points outside the index's directory " + dir);
        }
        if (!Files.exists(file)) {
            throw new SafetensorsException(indexFile, "missing shard " + Json.quote(shard) + " (for tensor "
                    + Json.quote(firstTensor) + " and maybe others): " + file + " does not exist");
        }
        try {
            return SafetensorsFile.open(file);
        } catch (SafetensorsException e) {
            throw new SafetensorsException(indexFile, "shard " + Json.quote(shard) + " is invalid: " + e.getMessage(),
                    e);
        }
    }

    /** The index file this store was opened from. */
    public Path indexFile() {
        return index;
    }

    /** The shard files, in order of first appearance in weight_map. */
    public List<Path> shardFiles() {
        List<Path> out = new ArrayList<>(shards.size());
        shards.forEach(s -> out.add(s.path()));
        return out;
    }

    /** {@code metadata.total_size} of the index, when present. */
    public OptionalLong totalSize() {
        return totalSize;
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    @Override
    public Tensor tensor(String name) {
        return shardOf(name).tensor(name);
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile s = byTensor.get(name);
        if (s == null) {
            throw new SafetensorsException(index, "no tensor named " + Json.quote(name));
        }
        return s;
    }

    @Override
    public String describe() {
        return index + " (" + shards.size() + " shards)";
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "ShardedSafetensors[" + describe() + ", " + byTensor.size() + " tensors]";
    }
}
