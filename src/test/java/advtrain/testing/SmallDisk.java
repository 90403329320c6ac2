package advtrain.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small tmpfs mounted for a test that needs a disk to fill up. Mounting needs root (here and in
 * CI); elsewhere the test is SKIPPED with the reason. Unmounted on close.
 */
public final class SmallDisk implements AutoCloseable {
    public final Path root;

    private SmallDisk(Path root) {
        this.root = root;
    }

    /** Mounts a tmpfs of {@code size} (as mount's option: "64k", "1000k") on a new folder {@code dir}. */
    public static SmallDisk mount(Path dir, String size) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process mounting = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        String why = new String(mounting.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        Assumptions.assumeTrue(mounting.waitFor() == 0, "cannot mount a small tmpfs here (needs root): " + why);
        return new SmallDisk(dir);
    }

    @Override public void close() throws IOException {
        try {
            new ProcessBuilder("umount", root.toString()).start().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
