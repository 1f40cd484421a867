package dev.pagoda.nn.clip;

import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/** Reads one JSON file of a tokenizer folder, turning every failure into a {@link TokenizerException} naming the file. */
final class TokenizerJsonFile {

    private TokenizerJsonFile() {
    }

    /**
     * Parses {@code file}, which must hold a JSON object.
     *
     * @param role what the file is for, used in the not-found message
     */
    static Map<String, Object> readObject(Path file, String role) {
        String text;
        try {
            byte[] bytes = Files.readAllBytes(file);
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file, role + " not found", e);
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file, "not valid UTF-8", e);
        } catch (IOException e) {
            throw new TokenizerException(file, "cannot read: " + e.getMessage(), e);
        }
        try {
            return Json.parseObject(text);
        } catch (JsonException e) {
            throw new TokenizerException(file, "malformed JSON: " + e.getMessage(), e);
        }
    }
}
