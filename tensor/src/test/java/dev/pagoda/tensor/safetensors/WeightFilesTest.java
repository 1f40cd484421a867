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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightFilesTest {

    @TempDir
    Path dir;

    private static final String STEM = "diffusion_pytorch_model";

    private Path single(String name, float value) {
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, Map.of("w", Tensor.of(new float[] {value}, 1)));
        return p;
    }

    /** Two shards and an index named {@code indexName}, with shards named as diffusers names them. */
    private Path sharded(String indexName, String shardStem, float value) throws IOException {
        String s1 = shardStem + "-00001-of-00002.safetensors";
        String s2 = shardStem + "-00002-of-00002.safetensors";
        SafetensorsWriter.write(dir.resolve(s1), Map.of("w", Tensor.of(new float[] {value}, 1)));
        SafetensorsWriter.write(dir.resolve(s2), Map.of("v", Tensor.of(new float[] {value, value}, 2)));
        return Files.writeString(dir.resolve(indexName), "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"w\":\""
                + s1 + "\",\"v\":\"" + s2 + "\"}}");
    }

    private float openAndRead(boolean preferFp16) {
        try (TensorStore s = WeightFiles.open(dir, STEM, preferFp16)) {
            return s.tensor("w").getFloat(0);
        }
    }

    @Test
    void candidatesListPreferredVariantFirstWithIndexBeforeSingleFile() {
        assertEquals(List.of("model.safetensors.index.json", "model.safetensors", "model.safetensors.index.fp16.json",
                "model.fp16.safetensors.index.json", "model.fp16.safetensors"), WeightFiles.candidates("model", false));
        assertEquals(List.of("model.safetensors.index.fp16.json", "model.fp16.safetensors.index.json",
                "model.fp16.safetensors", "model.safetensors.index.json", "model.safetensors"),
                WeightFiles.candidates("model", true));
    }

    @Test
    void singleFileIsFoundWithEitherPreference() {
        Path p = single(STEM + ".safetensors", 1);
        assertEquals(p, WeightFiles.find(dir, STEM, false));
        assertEquals(p, WeightFiles.find(dir, STEM, true));
        assertEquals(1f, openAndRead(true));
    }

    @Test
    void fp16VariantIsPreferredOnlyWhenAsked() {
        single(STEM + ".safetensors", 1);
        Path half = single(STEM + ".fp16.safetensors", 2);
        assertEquals(half, WeightFiles.find(dir, STEM, true));
        assertEquals(2f, openAndRead(true));
        assertEquals(1f, openAndRead(false));
    }

    @Test
    void onlyFp16VariantStillLoadsWithoutThePreference() {
        Path half = single("model.fp16.safetensors", 2);
        assertEquals(half, WeightFiles.find(dir, "model", false));
    }

    @Test
    void shardedCheckpointIsOpenedAsShardedStore() throws IOException {
        Path index = sharded(STEM + ".safetensors.index.json", STEM, 3);
        assertEquals(index, WeightFiles.find(dir, STEM, false));
        try (TensorStore s = WeightFiles.open(dir, STEM, false)) {
            assertTrue(s instanceof ShardedSafetensors);
            assertArrayEquals(new float[] {3, 3}, s.tensor("v").toFloatArray());
        }
    }

    @Test
    void indexWinsOverSingleFileOfTheSameVariant() throws IOException {
        single(STEM + ".safetensors", 1);
        Path index = sharded(STEM + ".safetensors.index.json", STEM, 3);
        assertEquals(index, WeightFiles.find(dir, STEM, false));
        assertEquals(3f, openAndRead(false));
    }

    @Test
    void shardedFp16VariantsInBothNamingsAreFound() throws IOException {
        single(STEM + ".safetensors", 1);
        Path diffusersNaming = sharded(STEM + ".safetensors.index.fp16.json", STEM + ".fp16", 4);
        assertEquals(diffusersNaming, WeightFiles.find(dir, STEM, true));
        assertEquals(4f, openAndRead(true));
        Path otherNaming = Files.move(diffusersNaming, dir.resolve(STEM + ".fp16.safetensors.index.json"));
        assertEquals(otherNaming, WeightFiles.find(dir, STEM, true));
        assertEquals(4f, openAndRead(true));
        assertEquals(1f, openAndRead(false));
    }

    @Test
    void missingWeightsListEveryNameLookedFor() {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> WeightFiles.open(dir, "model", true));
        assertEquals(dir + ": no weights found; looked for model.safetensors.index.fp16.json, "
                + "model.fp16.safetensors.index.json, model.fp16.safetensors, model.safetensors.index.json, "
                + "model.safetensors", e.getMessage());
    }

    @Test
    void folderMustExist() throws IOException {
        Path absent = dir.resolve("unet");
        assertEquals(absent + ": no such folder", assertThrows(SafetensorsException.class,
                () -> WeightFiles.find(absent, STEM, false)).getMessage());
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertEquals(file + ": not a folder", assertThrows(SafetensorsException.class,
                () -> WeightFiles.find(file, STEM, false)).getMessage());
    }

    @Test
    void openFileDispatchesOnTheName() {
        Path p = single("x.safetensors", 5);
        try (TensorStore s = WeightFiles.open(p)) {
            assertTrue(s instanceof SafetensorsFile);
            assertEquals(DType.F32, s.info("w").dtype());
        }
    }
}
