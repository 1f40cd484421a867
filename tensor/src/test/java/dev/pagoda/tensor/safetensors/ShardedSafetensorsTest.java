package dev.pagoda.tensor.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {

    @TempDir
    Path dir;

    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    @BeforeEach
    void writeShards() {
        Map<String, Tensor> first = new LinkedHashMap<>();
        first.put("a.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        first.put("a.bias", Tensor.of(new float[] {-1, -2}, 2));
        SafetensorsWriter.write(dir.resolve(SHARD1), first);
        SafetensorsWriter.write(dir.resolve(SHARD2), Map.of("b.ids", Tensor.ofLongs(new long[] {7, 1L << 40}, 2)));
    }

    private Path index(String json) throws IOException {
        return Files.writeString(dir.resolve("model.safetensors.index.json"), json);
    }

    private static String weightMap(String... nameShardPairs) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < nameShardPairs.length; i += 2) {
            b.append(i == 0 ? "" : ",").append('"').append(nameShardPairs[i]).append("\":\"")
                    .append(nameShardPairs[i + 1]).append('"');
        }
        return b.append('}').toString();
    }

    private Path goodIndex() throws IOException {
        return index("{\"metadata\":{\"total_size\":48},\"weight_map\":"
                + weightMap("a.bias", SHARD1, "b.ids", SHARD2, "a.weight", SHARD1) + "}");
    }

    private SafetensorsException refused(Path index) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> ShardedSafetensors.open(index));
        assertTrue(e.getMessage().startsWith(index + ": "), e.getMessage());
        return e;
    }

    @Test
    void readsTensorsFromBothShardsInWeightMapOrder() throws IOException {
        Path index = goodIndex();
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            assertEquals(List.of("a.bias", "b.ids", "a.weight"), List.copyOf(s.names()));
            assertEquals(OptionalLong.of(48), s.totalSize());
            assertEquals(List.of(dir.resolve(SHARD1).toAbsolutePath(), dir.resolve(SHARD2).toAbsolutePath()),
                    s.shardFiles());
            assertEquals(index, s.indexFile());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, s.tensor("a.weight").toFloatArray());
            assertArrayEquals(new int[] {2, 3}, s.info("a.weight").shape());
            assertArrayEquals(new long[] {7, 1L << 40}, s.tensor("b.ids").toLongArray());
            assertEquals(DType.I64, s.info("b.ids").dtype());
            assertTrue(s.contains("a.bias"));
            assertTrue(s.describe().contains("2 shards"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> s.tensor("c"));
            assertEquals(index + ": no tensor named \"c\"", e.getMessage());
        }
    }

    @Test
    void opensThroughTheTensorStoreFactory() throws IOException {
        try (TensorStore s = WeightFiles.open(goodIndex())) {
            assertTrue(s instanceof ShardedSafetensors);
            assertEquals(3, s.names().size());
        }
    }

    @Test
    void missingShardIsNamedWithTheIndex() throws IOException {
        Path index = index("{\"weight_map\":" + weightMap("a.bias", SHARD1, "c", "model-00003-of-00003.safetensors")
                + "}");
        SafetensorsException e = refused(index);
        assertTrue(e.getMessage().contains("missing shard \"model-00003-of-00003.safetensors\" (for tensor \"c\""),
                e.getMessage());
    }

    @Test
    void tensorThatItsShardLacksIsRefused() throws IOException {
        Path index = index("{\"weight_map\":" + weightMap("a.bias", SHARD1, "a.weight", SHARD1, "b.ids", SHARD1) + "}");
        assertTrue(refused(index).getMessage().contains(
                "weight_map puts tensor \"b.ids\" in shard \"" + SHARD1 + "\", which does not contain it"));
    }

    @Test
    void tensorInTwoShardsIsADuplicate() throws IOException {
        SafetensorsWriter.write(dir.resolve(SHARD2), Map.of("b.ids", Tensor.ofLongs(new long[] {1}, 1),
                "a.bias", Tensor.of(new float[] {0, 0}, 2)));
        Path index = index("{\"weight_map\":" + weightMap("a.bias", SHARD1, "a.weight", SHARD1, "b.ids", SHARD2) + "}");
        assertTrue(refused(index).getMessage().contains("duplicate tensor \"a.bias\": it is in shard \"" + SHARD2
                + "\" and in shard \"" + SHARD1 + "\""));
    }

    @Test
    void shardTensorMissingFromTheIndexIsRefused() throws IOException {
        Path index = index("{\"weight_map\":" + weightMap("a.bias", SHARD1, "b.ids", SHARD2) + "}");
        assertTrue(refused(index).getMessage().contains("shard \"" + SHARD1
                + "\" holds tensor \"a.weight\", which weight_map does not list"));
    }

    @Test
    void duplicateKeyInTheIndexIsRefused() throws IOException {
        Path index = index("{\"weight_map\":{\"a.bias\":\"" + SHARD1 + "\",\"a.bias\":\"" + SHARD2 + "\"}}");
        assertTrue(refused(index).getMessage().contains("index is not valid JSON: duplicate key \"a.bias\""));
    }

    @Test
    void shardNamesMustStayInTheIndexFolder() throws IOException {
        Files.createDirectories(dir.resolve("sub"));
        Path outside = Files.copy(dir.resolve(SHARD1), dir.resolve("outside.safetensors"));
        Path index = Files.writeString(dir.resolve("sub/model.safetensors.index.json"),
                "{\"weight_map\":" + weightMap("a.bias", "../outside.safetensors") + "}");
        assertTrue(refused(index).getMessage().contains("shard name \"../outside.safetensors\" points outside"));
        Path absolute = Files.writeString(dir.resolve("sub/abs.index.json"),
                "{\"weight_map\":" + weightMap("a.bias", outside.toAbsolutePath().toString()) + "}");
        assertTrue(refused(absolute).getMessage().contains("points outside the index's directory"));
        Path self = Files.writeString(dir.resolve("sub/self.index.json"), "{\"weight_map\":" + weightMap("a", ".") + "}");
        assertTrue(refused(self).getMessage().contains("points outside the index's directory"));
    }

    @Test
    void invalidShardIsReportedWithIndexAndShard() throws IOException {
        Files.write(dir.resolve(SHARD2), new byte[] {1, 2, 3});
        Path index = goodIndex();
        SafetensorsException e = refused(index);
        assertTrue(e.getMessage().contains("shard \"" + SHARD2 + "\" is invalid: " + dir.resolve(SHARD2)
                + ": file is 3 bytes, too short"), e.getMessage());
    }

    @Test
    void malformedIndexesAreRefusedWithTheReason() throws IOException {
        assertTrue(refused(index("")).getMessage().contains("index is not valid JSON: unexpected end of JSON"));
        assertTrue(refused(index("[]")).getMessage().contains("expected a JSON object at the top level"));
        assertTrue(refused(index("{}")).getMessage().contains("weight_map is missing"));
        assertTrue(refused(index("{\"weight_map\":[]}")).getMessage().contains("weight_map must be an object, found array"));
        assertTrue(refused(index("{\"weight_map\":{\"a\":1}}")).getMessage()
                .contains("weight_map entry \"a\" must name a shard file, found number"));
        assertTrue(refused(index("{\"weight_map\":{\"a\":\"\"}}")).getMessage()
                .contains("weight_map entry \"a\" must name a shard file, found an empty string"));
        assertTrue(refused(index("{\"metadata\":1,\"weight_map\":{}}")).getMessage()
                .contains("metadata must be an object, found number"));
        assertTrue(refused(index("{\"metadata\":{\"total_size\":-1},\"weight_map\":{}}")).getMessage()
                .contains("metadata.total_size must be a non-negative integer, found -1"));
        assertTrue(refused(index("{\"metadata\":{\"total_size\":\"48\"},\"weight_map\":{}}")).getMessage()
                .contains("metadata.total_size must be a non-negative integer, found \"48\""));
        assertTrue(refused(index("{\"metadata\":{\"total_size\":1.5},\"weight_map\":{}}")).getMessage()
                .contains("found 1.5"));
        Path bad = Files.write(dir.resolve("bad.index.json"), new byte[] {'{', (byte) 0xFF, '}'});
        assertTrue(refused(bad).getMessage().contains("index is not valid UTF-8"));
        Path absent = dir.resolve("absent.index.json");
        assertEquals(absent + ": no such file", refused(absent).getMessage());
    }

    @Test
    void wholeFloatTotalSizeAndExtraKeysAreAccepted() throws IOException {
        Path index = index("{\"metadata\":{\"total_size\":48.0,\"format\":\"pt\"},\"note\":\"x\",\"weight_map\":"
                + weightMap("a.bias", SHARD1, "b.ids", SHARD2, "a.weight", SHARD1) + "}");
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            assertEquals(OptionalLong.of(48), s.totalSize());
        }
    }
}
