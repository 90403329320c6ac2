package advtrain.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds CIFAR-10 where README.md says: --data DIR, then $ADVTRAIN_DATA, then
 * data/cifar-10-batches-bin/ in the project, then ../shared/data/cifar-10/ beside the checkout.
 * A folder counts if it holds the files, or holds them in a cifar-10-batches-bin/ subfolder
 * (where `download --data DIR` puts them), or is a sample (see {@link Cifar10}) holding the files
 * its sample file names.
 */
public final class DataLocator {
    public static final String BATCHES_DIR = "cifar-10-batches-bin";

    private DataLocator() {}

    /** No folder had the data; the message lists where we looked and how to get it. */
    public static final class DataNotFoundException extends Cifar10.DataException {
        public DataNotFoundException(String message) { super(message); }
    }

    /** The project root: set by the launcher (-Dadvtrain.home), else the working directory. */
    public static Path projectRoot() {
        String home = System.getProperty("advtrain.home");
        return Path.of(home != null ? home : ".").toAbsolutePath().normalize();
    }

    /** The candidate folders, in the order they are tried. */
    public static List<Path> candidates(Path explicit) {
        List<Path> list = new ArrayList<>();
        if (explicit != null) {
            list.add(explicit);
            return list;  // an explicit --data is the only place looked at
        }
        String env = System.getenv("ADVTRAIN_DATA");
        if (env != null && !env.isBlank()) list.add(Path.of(env));
        Path root = projectRoot();
        list.add(root.resolve("data").resolve(BATCHES_DIR));
        list.add(root.resolve("..").resolve("shared").resolve("data").resolve("cifar-10").normalize());
        return list;
    }

    /** The first candidate holding all six files, or null. */
    public static Path find(Path explicit) {
        for (Path dir : candidates(explicit)) {
            if (Cifar10.isComplete(dir)) return dir;
            if (Cifar10.isComplete(dir.resolve(BATCHES_DIR))) return dir.resolve(BATCHES_DIR);
        }
        return null;
    }

    /** Like {@link #find} but fails with a message saying where it looked and what to do. */
    public static Path require(Path explicit) throws DataNotFoundException {
        Path dir = find(explicit);
        if (dir != null) return dir;
        StringBuilder where = new StringBuilder();
        for (Path p : candidates(explicit)) {
            where.append(where.length() == 0 ? "" : ", ").append(p);
            // A folder with some of the files is most likely the one meant: say what it lacks.
            for (Path folder : List.of(p, p.resolve(BATCHES_DIR))) {
                try {
                    Cifar10.records(folder);
                } catch (Cifar10.DataException e) {  // a sample folder whose sample file is wrong
                    where.append(" (").append(e.getMessage()).append(")");
                    continue;
                }
                List<String> missing = Cifar10.missingFiles(folder);
                if (Files.isDirectory(folder) && missing.size() < Cifar10.allFiles().size()) {
                    where.append(" (lacks ").append(String.join(", ", missing)).append(")");
                }
            }
        }
        String target = explicit != null ? explicit.toString() : "data";
        throw new DataNotFoundException("CIFAR-10 not found (looked in " + where + "); get it with `./advtrain download --data "
                + target + "` or point --data at a folder holding data_batch_1..5.bin and test_batch.bin (or .bin.gz)");
    }
}
