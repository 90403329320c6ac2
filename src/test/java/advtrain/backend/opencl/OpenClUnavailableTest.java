package advtrain.backend.opencl;

import advtrain.backend.UnavailableException;
import advtrain.backend.select.Backends;
import advtrain.io.Json;
import advtrain.testing.TestBackends;
import org.jocl.CL;
import org.jocl.CLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Without OpenCL, asking for it must end in one line that names the problem and the fix, and auto
 * must fall back to Java. The failures are simulated: the library search is pointed at empty
 * folders, the ICD loader at a folder with no drivers, and the exceptions JOCL throws are handed to
 * the explanation directly. The subprocess tests run the real code paths in a fresh JVM.
 */
class OpenClUnavailableTest {

    private static void assertOneClearLine(String message, String problem) {
        assertFalse(message.contains("\n"), "one line: " + message);
        assertTrue(message.startsWith(problem), "names the problem first: " + message);
        assertTrue(message.contains("apt-get install") && message.contains("--backend java"), "names the fix: " + message);
        assertFalse(message.contains("Exception") || message.contains("at org.jocl"), "no stack trace: " + message);
    }

    @Test
    void aMissingLibraryIsExplainedInOneLine() {
        assertOneClearLine(OpenCl.explain(new UnsatisfiedLinkError(
                "Could not initialize native OpenCL library. Implementation library could not be loaded")).getMessage(),
                "no OpenCL runtime");
        // after a failed static initialiser, JOCL's class answers NoClassDefFoundError instead
        assertOneClearLine(OpenCl.explain(new NoClassDefFoundError("Could not initialize class org.jocl.CL\n\tat x")).getMessage(),
                "no OpenCL runtime");
    }

    @Test
    void noDriverAndNoDeviceAreExplainedInOneLine() {
        assertOneClearLine(OpenCl.explain(new CLException("CL_PLATFORM_NOT_FOUND_KHR", CL.CL_PLATFORM_NOT_FOUND_KHR)).getMessage(),
                "no OpenCL platform");
        assertOneClearLine(OpenCl.explain(new CLException("CL_DEVICE_NOT_FOUND", CL.CL_DEVICE_NOT_FOUND)).getMessage(),
                "no OpenCL device");
        assertOneClearLine(OpenCl.explain(new CLException("CL_OUT_OF_HOST_MEMORY", CL.CL_OUT_OF_HOST_MEMORY)).getMessage(),
                "OpenCL failed while listing devices");
    }

    @Test
    void theLibrarySearchTellsMissingFromUnlinked(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertOneClearLine(OpenCl.missingLibrary(List.of(empty), null), "no OpenCL runtime: libOpenCL.so was not found");

        Path versionedOnly = Files.createDirectory(dir.resolve("versioned"));
        Files.createFile(versionedOnly.resolve("libOpenCL.so.1"));
        String message = OpenCl.missingLibrary(List.of(empty, versionedOnly), null);
        assertOneClearLine(message, "no OpenCL runtime that JOCL can open");
        assertTrue(message.contains(versionedOnly.resolve("libOpenCL.so.1").toString()) && message.contains("ocl-icd-opencl-dev"), message);

        Path complete = Files.createDirectory(dir.resolve("complete"));
        Files.createFile(complete.resolve("libOpenCL.so"));
        assertNull(OpenCl.missingLibrary(List.of(empty, complete), null));

        // the dynamic loader's cache lists full paths, NUL-terminated
        Path cache = dir.resolve("ld.so.cache");
        Files.write(cache, "glibc-ld.so.cache1.1\0libm.so.6\0/usr/lib/libm.so.6\0/opt/gpu/lib/libOpenCL.so.1\0".getBytes(StandardCharsets.ISO_8859_1));
        message = OpenCl.missingLibrary(List.of(empty), cache);
        assertTrue(message.contains("/opt/gpu/lib/libOpenCL.so.1 is installed"), message);
        Files.write(cache, "glibc-ld.so.cache1.1\0/opt/gpu/lib/libOpenCL.so\0".getBytes(StandardCharsets.ISO_8859_1));
        assertNull(OpenCl.missingLibrary(List.of(empty), cache));
    }

    @Test
    void aBadDeviceIndexIsAUsageError() {
        TestBackends.get("opencl");  // skips, with the reason, where there is no OpenCL
        int count = OpenCl.devices().size();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.select("opencl", count));
        assertTrue(e.getMessage().startsWith("--device " + count + ": there is no OpenCL device"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.select("opencl", -1));
    }

    // ---- in a fresh JVM ---------------------------------------------------------------------------

    /** Runs a main class of this test class path in a new JVM; returns exit status, stdout, stderr. */
    private static String[] runJava(Map<String, String> environment, List<String> jvmOptions, String mainClass, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(environment);
        Path out = Files.createTempFile("advtrain-out", ".txt"), err = Files.createTempFile("advtrain-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "subprocess finished");
        String stdout = Files.readString(out), stderr = Files.readString(err);
        Files.delete(out);
        Files.delete(err);
        // the JVM's own notice about the incubator module is not ours
        stderr = stderr.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).reduce("", (a, b) -> a + b + "\n");
        return new String[] {String.valueOf(p.exitValue()), stdout, stderr};
    }

    /** A command-line-like program: select a backend, print the failure as the CLI does. */
    public static final class SelectMain {
        public static void main(String[] args) {
            try {
                Backends.Choice choice = Backends.select(args[0], null);
                System.out.println("chose " + choice.backend().name() + ": " + choice.reason());
            } catch (UnavailableException e) {
                System.err.println("advtrain: " + e.getMessage());
                System.exit(1);
            }
        }
    }

    @Test
    void withoutTheLibraryOpenclFailsWithOneLineAndAutoChoosesJava(@TempDir Path dir) throws Exception {
        List<String> noLibrary = List.of("-Dadvtrain.opencl.libraryPath=" + dir);
        String[] opencl = runJava(Map.of(), noLibrary, SelectMain.class.getName(), "opencl");
        assertEquals("1", opencl[0], "exit status; stderr: " + opencl[2]);
        assertEquals(1, opencl[2].lines().count(), "exactly one line on stderr: " + opencl[2]);
        assertOneClearLine(opencl[2].trim().substring("advtrain: ".length()), "no OpenCL runtime");

        String[] auto = runJava(Map.of(), noLibrary, SelectMain.class.getName(), "auto");
        assertEquals("0", auto[0], auto[2]);
        assertTrue(auto[1].startsWith("chose java: auto chose java: no OpenCL runtime"), auto[1]);
        assertEquals("", auto[2]);

        String[] devices = runJava(Map.of(), noLibrary, "advtrain.cli.Main", "devices", "--json");
        assertEquals("0", devices[0], devices[2]);
        String[] lines = devices[1].split("\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(lines[lines.length - 1]);
        assertEquals("java", json.get("auto"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> backends = (List<Map<String, Object>>) json.get("backends");
        assertEquals(List.of("java", "opencl", "reference"), backends.stream().map(b -> b.get("name")).toList());
        assertEquals(Boolean.TRUE, backends.get(0).get("available"));
        assertEquals(Boolean.FALSE, backends.get(1).get("available"));
        assertTrue(((String) backends.get(1).get("reason")).startsWith("no OpenCL runtime"), backends.get(1).toString());
        assertEquals(Boolean.TRUE, backends.get(2).get("available"), "the reference backend needs no OpenCL");
        assertEquals(List.of(), json.get("devices"));
    }

    @Test
    void withoutADriverOpenclFailsWithOneLine(@TempDir Path noDrivers) throws Exception {
        // ocl-icd (and the Khronos loader) read the driver list from this folder instead of /etc/OpenCL/vendors
        String[] result = runJava(Map.of("OCL_ICD_VENDORS", noDrivers.toString()), List.of(), SelectMain.class.getName(), "opencl");
        assertEquals("1", result[0], "exit status; stderr: " + result[2]);
        assertEquals(1, result[2].lines().count(), "exactly one line on stderr: " + result[2]);
        String message = result[2].trim().substring("advtrain: ".length());
        // where even the library is missing, that is what the line must say
        assertOneClearLine(message, OpenCl.missingLibrary() == null ? "no OpenCL platform" : "no OpenCL runtime");
        if (OpenCl.missingLibrary() == null) {
            assertTrue(message.contains("no .icd file in OCL_ICD_VENDORS=" + noDrivers), "names the folder the loader read: " + message);
        }
    }

    @Test
    void theNoPlatformMessageSaysWhichIcdFolderWasReadAndWhatIsWrongInIt(@TempDir Path dir) throws IOException {
        Path vendors = Files.createDirectory(dir.resolve("vendors")), libs = Files.createDirectory(dir.resolve("lib"));
        assertEquals("no .icd file in " + vendors, IcdFiles.whyNoPlatform(null, vendors, List.of(libs), null));
        assertEquals("no .icd file in OCL_ICD_VENDORS=" + vendors, IcdFiles.whyNoPlatform(vendors.toString(), Path.of("/nowhere"), List.of(libs), null));
        String gone = IcdFiles.whyNoPlatform(dir.resolve("gone").toString(), vendors, List.of(libs), null);
        assertTrue(gone.startsWith("the ICD folder OCL_ICD_VENDORS=" + dir.resolve("gone") + " does not exist"), gone);

        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2\n");
        assertEquals(vendors.resolve("pocl.icd") + " names libpocl.so.2, which is not installed",
                IcdFiles.whyNoPlatform(null, vendors, List.of(libs), null));
        Files.writeString(vendors.resolve("gpu.icd"), dir.resolve("opt/libgpu.so") + "\n");
        String both = IcdFiles.whyNoPlatform(null, vendors, List.of(libs), null);
        assertTrue(both.contains("gpu.icd names " + dir.resolve("opt/libgpu.so") + ", which is not installed") && both.contains("pocl.icd"), both);

        Files.createFile(libs.resolve("libpocl.so.2"));
        String installed = IcdFiles.whyNoPlatform(null, vendors, List.of(libs), null);
        assertTrue(installed.startsWith("the ICD files in " + vendors + " name installed drivers, but none gave a platform"), installed);
        // the dynamic loader's cache counts as installed too
        Files.delete(libs.resolve("libpocl.so.2"));
        Path cache = dir.resolve("ld.so.cache");
        Files.write(cache, "glibc-ld.so.cache1.1\0/usr/lib/libpocl.so.2\0".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(IcdFiles.whyNoPlatform(null, vendors, List.of(libs), cache).contains("none gave a platform"));
    }

    @Test
    void autoMeasuresOnceAndThenUsesTheCache(@TempDir Path cacheHome) throws Exception {
        TestBackends.get("opencl");  // skips, with the reason, where there is no OpenCL
        Map<String, String> env = Map.of("XDG_CACHE_HOME", cacheHome.toString());
        String[] first = runJava(env, List.of(), SelectMain.class.getName(), "auto");
        assertEquals("0", first[0], first[2]);
        String line = first[1].trim();
        assertEquals(1, line.lines().count(), line);
        boolean gpu = OpenCl.devices().stream().anyMatch(OpenCl.Device::gpu);
        if (gpu) {
            assertTrue(line.contains("auto chose opencl: GPU"), line);
            return;
        }
        assertTrue(line.contains("probe took") && line.contains("measured now"), line);
        if (!line.contains("measured warm")) {  // a busy machine: Java timed before its JIT was done
            assertTrue(line.contains("auto chose java"), "a cold Java figure cannot make OpenCL look faster: " + line);
        }
        // cached with how it was decided, whichever way: the next run does not measure again
        assertTrue(Files.exists(cacheHome.resolve("advtrain/backend-speed.properties")), line);
        String[] second = runJava(env, List.of(), SelectMain.class.getName(), "auto");
        assertTrue(second[1].contains("measured earlier, cached"), second[1]);
        // the cached figures are the same, so the choice is the same
        assertEquals(first[1].replace("measured now", "").replaceAll("\\(.*", ""),
                second[1].replace("measured earlier", "").replaceAll("\\(.*", ""));
    }
}
