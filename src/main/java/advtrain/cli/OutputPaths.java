package advtrain.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Output paths checked before any work, so that a bad one is refused in a second, not after an hour of attacks. */
final class OutputPaths {
    private OutputPaths() {}

    /** A folder to write into: absent (it will be created) or a folder, with no file in the way on its path. */
    static void requireFolder(Path dir, String option) {
        if (Files.isDirectory(dir)) return;
        if (Files.exists(dir)) throw new Main.UsageError(option + " " + dir + " is a file, not a folder");
        requireCreatableParent(dir, option);
    }

    /** A file to (over)write: not a folder, and in a folder that is there or can be made. */
    static void requireWritableFile(Path file, String option) {
        if (Files.isDirectory(file)) {
            throw new Main.UsageError(option + " " + file + " is a folder; give a file name" + (option.equals("--out") ? "" : " such as " + file.resolve("grid.png")));
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new Main.UsageError(option + " " + file + " is not a regular file (a FIFO, device or socket)");
        }
        requireCreatableParent(file, option);
    }

    private static void requireCreatableParent(Path path, String option) {
        for (Path p = path.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p)) return;
            if (Files.exists(p)) throw new Main.UsageError(option + " " + path + ": " + p + " is a file, not a folder");
        }
    }
}
