package dev.pagoda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import dev.pagoda.tensor.Backend;

import org.junit.jupiter.api.Test;

/**
 * README's op-coverage table cannot go stale: its rows are exactly the operations of the
 * {@link Backend} interface, each of which the parity suite runs on OpenCL without a host fallback
 * ({@link BackendParityTest#COVERED}), and it claims device support for each.
 */
class OpCoverageTableTest {

    /** Backend methods that are not tensor operations. */
    private static final Set<String> NOT_OPS = Set.of("name", "resident", "toHost", "deviceMemoryBytes",
            "peakDeviceBytes", "cpu");

    private static List<String[]> tableRows() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
        int begin = lines.indexOf("<!-- op-coverage:begin -->");
        int end = lines.indexOf("<!-- op-coverage:end -->");
        assertTrue(begin >= 0 && end > begin, "README.md has the op-coverage markers");
        List<String[]> rows = new ArrayList<>();
        for (String line : lines.subList(begin + 3, end)) {
            String[] cells = line.split("\\|");
            rows.add(new String[] {cells[1].strip(), cells[2].strip(), cells[3].strip()});
        }
        return rows;
    }

    @Test
    void theTableListsEveryBackendOperationAndTheParitySuiteCoversEach() throws IOException {
        Set<String> ops = new TreeSet<>();
        for (Method m : Backend.class.getDeclaredMethods()) {
            if (!NOT_OPS.contains(m.getName()) && !Modifier.isStatic(m.getModifiers())) {
                ops.add(m.getName());
            }
        }
        Set<String> table = new TreeSet<>();
        for (String[] row : tableRows()) {
            table.add(row[0]);
            assertEquals("yes", row[1], row[0] + ": cpu column");
            assertEquals("yes", row[2], row[0] + ": opencl column");
        }
        assertEquals(ops, table, "README op table vs Backend interface");
        assertEquals(ops, new TreeSet<>(BackendParityTest.COVERED), "parity suite vs Backend interface");
    }
}
