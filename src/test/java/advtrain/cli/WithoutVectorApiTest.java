package advtrain.cli;

import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.data.RealData;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * advtrain in a JVM started without --add-modules jdk.incubator.vector, as a library user's may be:
 * auto takes an OpenCL device and says why in one line; with no OpenCL either, the reference
 * backend, with one warning line that names the flag; the java backend asked for by name fails with
 * one error line that names it. Never a NoClassDefFoundError.
 */
class WithoutVectorApiTest {
    @TempDir static Path tmp;
    static Path model;

    @BeforeAll
    static void anUntrainedModel() throws IOException {
        Backend backend = new CpuBackend();
        model = tmp.resolve("model.safetensors");
        ModelFiles.save(new Net(backend, 1), backend, model, Map.of());
    }

    /** The CLI in a fresh JVM without the Vector API module, and without OpenCL unless {@code opencl}. */
    private static Cli.Run run(boolean opencl, String... args) throws Exception {
        Path noLibrary = Files.createDirectories(tmp.resolve("no-opencl"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (!opencl) command.add("-Dadvtrain.opencl.libraryPath=" + noLibrary);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "advtrain.cli.Main"));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", ".txt"), err = Files.createTempFile(tmp, "err", ".txt");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "finished");
        return new Cli.Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void autoTakesAnOpenclDeviceAndSaysWhyInOneLine() throws Exception {
        TestBackends.get("opencl");  // skipped where OpenCL is absent (CI has PoCL, and fails on a skipped OpenCL test)
        Cli.Run r = run(true, "eval", "--model", model.toString(), "--data", RealData.sample().toString(), "--limit-test", "20", "--json");
        assertEquals(0, r.status(), r.toString());
        assertEquals(20L, r.json().get("n"), r.toString());
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("warning: ")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.get(0).contains("auto chose opencl") && warnings.get(0).contains("--add-modules jdk.incubator.vector"),
                warnings.get(0));
        assertFalse(r.err().contains("NoClassDefFoundError"), r.err());
        assertTrue(r.err().lines().noneMatch(l -> l.startsWith("backend: ")), "the warning is the only line on the choice: " + r.err());
    }

    @Test
    void withoutOpenclEitherAutoFallsBackToTheReferenceBackendWithOneWarning() throws Exception {
        Cli.Run r = run(false, "eval", "--model", model.toString(), "--data", RealData.sample().toString(), "--limit-test", "20", "--json");
        assertEquals(0, r.status(), r.toString());
        assertEquals(20L, r.json().get("n"), r.toString());
        assertEquals("reference", r.json().get("backend"), r.toString());
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("warning: ")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.get(0).contains("auto chose reference") && warnings.get(0).contains("--add-modules jdk.incubator.vector"),
                warnings.get(0));
        assertTrue(r.err().lines().noneMatch(l -> l.startsWith("backend: ")), "the warning is the only line on the choice: " + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("NoClassDefFoundError"), r.err());
    }

    @Test
    void theJavaBackendAskedForByNameNamesTheFlag() throws Exception {
        Cli.Run r = run(true, "eval", "--model", model.toString(), "--data", RealData.sample().toString(), "--limit-test", "20",
                "--backend", "java");
        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errorLines().size(), r.err());
        assertTrue(r.errorLines().get(0).contains("--add-modules jdk.incubator.vector"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
