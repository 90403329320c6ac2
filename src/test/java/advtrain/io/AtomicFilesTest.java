package advtrain.io;

import advtrain.testing.SmallDisk;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class AtomicFilesTest {
    @Test
    void replacesTheWholeFileAndLeavesNoTempFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/state.bin");
        AtomicFiles.write(file, new byte[] {1, 2, 3});
        AtomicFiles.writeString(file, "four");
        assertEquals("four", Files.readString(file));
        try (var listing = Files.list(file.getParent())) {
            assertEquals(List.of(file), listing.toList());
        }
    }

    /**
     * Durable, as seen by the kernel: the temp file's data is fsync'd before the rename that
     * publishes it, and the folder is fsync'd after it (else a power cut can lose the rename).
     * Watched with strace on a child JVM; skipped where strace cannot run.
     */
    @Test
    void syncsTheDataBeforeTheRenameAndTheFolderAfterIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors"), trace = dir.resolve("trace.txt");
        // -ff: one trace file per thread, so that no call is split by another thread's
        List<String> command = new ArrayList<>(List.of("strace", "-ff", "-qq", "-o", trace.toString(), "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                WriteMain.class.getName(), file.toString()));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("strace is not installed: " + e.getMessage());
            return;
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<Path> traces;
        try (var files = Files.list(dir)) {
            traces = files.filter(f -> f.getFileName().toString().startsWith("trace.txt.")).toList();
        }
        Assumptions.assumeTrue(p.exitValue() == 0 && !traces.isEmpty(), "strace cannot trace here: " + output);
        assertEquals("written", Files.readString(file));

        // The thread that wrote: the one trace with the rename.
        String tmpPrefix = dir.resolve(".model.safetensors.").toString();
        List<String> lines = List.of();
        for (Path t : traces) {
            List<String> all = Files.readAllLines(t);
            if (all.stream().anyMatch(l -> l.startsWith("rename") && l.contains(tmpPrefix))) lines = all;
        }
        // Follow the file descriptors: which fd is the temp file, which the folder.
        List<String> events = new ArrayList<>();
        java.util.Map<String, String> fds = new java.util.HashMap<>();
        Pattern open = Pattern.compile("openat\\(AT_FDCWD, \"([^\"]+)\".* = (\\d+)$");
        Pattern sync = Pattern.compile("f(?:data)?sync\\((\\d+)\\)\\s+= 0");
        for (String line : lines) {
            Matcher m = open.matcher(line);
            if (m.find()) fds.put(m.group(2), m.group(1));
            m = sync.matcher(line);
            if (m.find()) {
                String path = fds.getOrDefault(m.group(1), "?");
                if (path.startsWith(tmpPrefix)) events.add("sync temp");
                else if (path.equals(dir.toString())) events.add("sync folder");
            }
            if (line.contains("rename") && line.contains(tmpPrefix) && line.contains("\"" + file + "\"")) events.add("rename");
        }
        assertEquals(List.of("sync temp", "rename", "sync folder"), events, "trace:\n" + String.join("\n", lines));
    }

    /** The child of the test above: one write through AtomicFiles. */
    public static final class WriteMain {
        public static void main(String[] args) throws Exception {
            AtomicFiles.writeString(Path.of(args[0]), "written");
        }
    }

    /** A full disk: the error names the file; the old file stays whole; no temp file is left. */
    @Test
    void aFullDiskNamesTheFileAndKeepsTheOldOne(@TempDir Path tmp) throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("small"), "64k")) {
            Path file = disk.root.resolve("state.bin");
            AtomicFiles.writeString(file, "the old state");
            FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicFiles.write(file, new byte[200_000]));
            assertEquals(file.toString(), e.getFile());
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertEquals("the old state", Files.readString(file));
            try (var listing = Files.list(disk.root)) {
                assertEquals(List.of(file), listing.toList(), "no temp file left");
            }
        }
    }
}
