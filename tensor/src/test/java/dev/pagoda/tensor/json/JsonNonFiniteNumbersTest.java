package dev.pagoda.tensor.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Python's json module writes NaN/Infinity/-Infinity; diffusers scheduler configs contain them. */
class JsonNonFiniteNumbersTest {

    @Test
    void readsPythonNonFiniteTokens() {
        Map<String, Object> m = Json.parseObject("{\"a\": -Infinity, \"b\": Infinity, \"c\": NaN, \"d\": -1.5}");
        assertEquals(Double.NEGATIVE_INFINITY, m.get("a"));
        assertEquals(Double.POSITIVE_INFINITY, m.get("b"));
        assertTrue(((Double) m.get("c")).isNaN());
        assertEquals(-1.5, m.get("d"));
        assertEquals(List.of(Double.NEGATIVE_INFINITY), Json.parse("[-Infinity]"));
    }

    @Test
    void rejectsTruncatedOrMisspelledTokens() {
        assertThrows(JsonException.class, () -> Json.parse("-Inf"));
        assertThrows(JsonException.class, () -> Json.parse("Infinit"));
        assertThrows(JsonException.class, () -> Json.parse("nan"));
        assertThrows(JsonException.class, () -> Json.parse("-"));
    }
}
