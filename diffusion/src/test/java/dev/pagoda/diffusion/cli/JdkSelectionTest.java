package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK selection that ./mvnw and ./pagoda share (.mvn/jdk25.sh): on a machine whose default java
 * is older, the README's commands must find a JDK 25 installed beside it, or name what to install.
 * Runs the real script with fake JDK homes (a release file and executable bin/java, bin/javac).
 */
class JdkSelectionTest {
    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve(".mvn/jdk25.sh");

    @TempDir Path tmp;

    record Result(int exit, String out, String err) {}

    Path fakeJdk(String dir, String version) throws IOException {
        Path home = tmp.resolve("jvm").resolve(dir);
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        for (String tool : new String[] {"java", "javac"}) {
            Path p = home.resolve("bin").resolve(tool);
            Files.writeString(p, "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return home;
    }

    Result run(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c",
                ". \"$1\"; echo \"JAVA_HOME=$JAVA_HOME\"; echo \"PATH=$PATH\"", "sh", SCRIPT.toString());
        pb.environment().clear();
        pb.environment().put("HOME", tmp.toString());
        pb.environment().put("PAGODA_JDK_SEARCH", tmp.resolve("jvm").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "jdk25.sh did not finish");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes()),
                new String(p.getErrorStream().readAllBytes()));
    }

    @Test
    void olderJavaOnPathPicksTheJdk25BesideIt() throws Exception {
        Path old = fakeJdk("java-17-openjdk-amd64", "17.0.15");
        Path jdk25 = fakeJdk("temurin-25-jdk-amd64", "25.0.1");
        Result r = run(Map.of("PATH", old.resolve("bin") + ":/usr/bin:/bin"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("JAVA_HOME=" + jdk25 + "\n"), r.out());
        assertTrue(r.out().contains("PATH=" + jdk25.resolve("bin") + ":"), "JDK 25 must come first on PATH: " + r.out());
    }

    @Test
    void javaHomeOfAnOlderJdkIsReplacedWithANote() throws Exception {
        Path old = fakeJdk("java-17-openjdk-amd64", "17.0.15");
        Path jdk25 = fakeJdk("temurin-25-jdk-amd64", "25");
        Result r = run(Map.of("PATH", "/usr/bin:/bin", "JAVA_HOME", old.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("JAVA_HOME=" + jdk25 + "\n"), r.out());
        assertTrue(r.err().contains("is not a JDK 25; using " + jdk25), r.err());
    }

    @Test
    void aNewerJavaHomeIsKept() throws Exception {
        fakeJdk("temurin-25-jdk-amd64", "25.0.1");
        Path jdk26 = fakeJdk("jdk-26", "26-ea");
        Result r = run(Map.of("PATH", "/usr/bin:/bin", "JAVA_HOME", jdk26.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("JAVA_HOME=" + jdk26 + "\n"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void withoutAJdk25ItNamesWhatToInstallAndFails() throws Exception {
        Path old = fakeJdk("java-17-openjdk-amd64", "17.0.15");
        Result r = run(Map.of("PATH", old.resolve("bin") + ":/usr/bin:/bin"));
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.err().contains("needs a JDK 25"), r.err());
        assertTrue(r.err().contains("JDK 17 at " + old), r.err());
        assertTrue(r.err().contains("Temurin 25"), r.err());
        assertTrue(!r.out().contains("JAVA_HOME="), "the caller must not go on: " + r.out());
    }
}
