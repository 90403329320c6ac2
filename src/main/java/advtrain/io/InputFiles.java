package advtrain.io;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks a file the user named as an input before anything opens it (a FIFO would block an open). */
public final class InputFiles {
    private InputFiles() {}

    /**
     * Fails with one line that names the problem when {@code file} is not a regular file: missing,
     * a folder, or a FIFO, device or socket. {@code option} is how the user named it ("--model"),
     * {@code hint} what to do instead (may be empty).
     */
    public static void requireRegularFile(Path file, String option, String hint) throws FileNotFoundException {
        if (Files.isRegularFile(file)) return;
        String problem = Files.isDirectory(file) ? "is a folder, not a file"
                : Files.exists(file) ? "is not a regular file (a FIFO, device or socket), so it cannot be read as one"
                : Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? "is a symbolic link to nothing"
                : "no such file";
        throw new FileNotFoundException(option + " " + file + ": " + problem + (hint == null || hint.isEmpty() ? "" : " (" + hint + ")"));
    }
}
