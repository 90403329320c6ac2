package advtrain.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the official CIFAR-10 binary files (cifar-10-batches-bin): each file is 10,000 records of
 * 3,073 bytes, a label byte 0..9 then 1,024 red, 1,024 green and 1,024 blue bytes. Every file is
 * read as "NAME.bin" or, failing that, "NAME.bin.gz". Files come from disks and downloads, so every
 * size and label is checked, and a problem names the file and what is wrong with it.
 */
public final class Cifar10 {
    public static final int RECORD_BYTES = 1 + Dataset.IMAGE_BYTES;
    public static final int RECORDS_PER_FILE = 10_000;
    public static final long FILE_BYTES = (long) RECORDS_PER_FILE * RECORD_BYTES;  // 30,730,000
    public static final List<String> TRAIN_FILES =
            List.of("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5");
    public static final String TEST_FILE = "test_batch";
    public static final int TRAIN_SIZE = TRAIN_FILES.size() * RECORDS_PER_FILE, TEST_SIZE = RECORDS_PER_FILE;
    public static final List<String> CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private Cifar10() {}

    /** A problem with a data file; the message names the file and what is wrong. */
    public static class DataException extends IOException {
        public DataException(String message) { super(message); }
    }

    /** The six data files, training files first. */
    public static List<String> allFiles() {
        List<String> all = new ArrayList<>(TRAIN_FILES);
        all.add(TEST_FILE);
        return all;
    }

    /** The training set (the first {@code limit} images; only the files they need are read). */
    public static Dataset train(Path dir, int limit) throws IOException {
        int wanted = Math.max(1, Math.min(limit, TRAIN_SIZE));
        int files = (wanted + RECORDS_PER_FILE - 1) / RECORDS_PER_FILE;
        return read(dir, TRAIN_FILES.subList(0, files)).limit(wanted);
    }

    /** The test set (the first {@code limit} images). */
    public static Dataset test(Path dir, int limit) throws IOException {
        return read(dir, List.of(TEST_FILE)).limit(Math.max(1, limit));
    }

    static Dataset read(Path dir, List<String> names) throws IOException {
        int n = names.size() * RECORDS_PER_FILE;
        byte[] pixels = new byte[n * Dataset.IMAGE_BYTES];
        byte[] labels = new byte[n];
        for (int f = 0; f < names.size(); f++) readFile(find(dir, names.get(f)), pixels, labels, f * RECORDS_PER_FILE);
        return new Dataset(pixels, labels, n);
    }

    /** NAME.bin if present, else NAME.bin.gz; the message says which names were tried. */
    public static Path find(Path dir, String name) throws DataException {
        Path plain = dir.resolve(name + ".bin"), gz = dir.resolve(name + ".bin.gz");
        if (Files.isRegularFile(plain)) return plain;
        if (Files.isRegularFile(gz)) return gz;
        throw new DataException("missing CIFAR-10 file " + plain + " (or " + gz.getFileName() + ")");
    }

    /** The data files missing from dir (as both .bin and .bin.gz), in file order; empty when complete. */
    public static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String name : allFiles()) {
            if (!Files.isRegularFile(dir.resolve(name + ".bin")) && !Files.isRegularFile(dir.resolve(name + ".bin.gz"))) {
                missing.add(name + ".bin");
            }
        }
        return missing;
    }

    /** True when every file of the data set is in dir (as .bin or .bin.gz). */
    public static boolean isComplete(Path dir) {
        return missingFiles(dir).isEmpty();
    }

    /** Reads one whole file and checks its size and every label (download uses it before accepting files). */
    public static void check(Path file) throws IOException {
        int n = RECORDS_PER_FILE;
        readFile(file, new byte[n * Dataset.IMAGE_BYTES], new byte[n], 0);
    }

    private static void readFile(Path file, byte[] pixels, byte[] labels, int firstRecord) throws IOException {
        boolean gzipped = file.getFileName().toString().endsWith(".gz");
        if (!gzipped) {
            long size;
            try {
                size = Files.size(file);  // a plain file's size is known before reading a byte
            } catch (IOException e) {
                throw new DataException(file + ": cannot be read (" + e + ")");
            }
            if (size != FILE_BYTES) throw new DataException(file + ": " + sizeProblem(size));
        }
        byte[] record = new byte[RECORD_BYTES];
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gzipped ? new GZIPInputStream(raw, 1 << 16) : raw) {
            for (int r = 0; r < RECORDS_PER_FILE; r++) {
                int got = in.readNBytes(record, 0, RECORD_BYTES);
                if (got < RECORD_BYTES) {
                    throw new DataException(file + ": " + sizeProblem((long) r * RECORD_BYTES + got)
                            + (gzipped ? " once uncompressed" : ""));
                }
                int label = record[0] & 0xFF;
                if (label > 9) {
                    throw new DataException(file + ": record " + r + " has label " + label
                            + ", expected 0-9 (a corrupt or foreign file)");
                }
                labels[firstRecord + r] = (byte) label;
                System.arraycopy(record, 1, pixels, (firstRecord + r) * Dataset.IMAGE_BYTES, Dataset.IMAGE_BYTES);
            }
            if (in.read() != -1) {
                throw new DataException(file + ": longer than " + RECORDS_PER_FILE + " records of " + RECORD_BYTES
                        + " bytes (" + FILE_BYTES + " bytes)" + (gzipped ? " once uncompressed" : ""));
            }
        } catch (ZipException e) {
            throw new DataException(file + ": corrupt gzip data (" + e.getMessage() + "); fetch the data again");
        } catch (EOFException e) {
            throw new DataException(file + ": the gzip stream ends early (a truncated file); fetch the data again");
        } catch (DataException e) {
            throw e;
        } catch (IOException e) {
            throw new DataException(file + ": cannot be read (" + e + ")");
        }
    }

    private static String sizeProblem(long bytes) {
        return bytes + " bytes, expected " + FILE_BYTES + " (" + RECORDS_PER_FILE + " records of " + RECORD_BYTES + " bytes)"
                + (bytes % RECORD_BYTES != 0 ? "; not a multiple of " + RECORD_BYTES + ", so the file is truncated or not CIFAR-10"
                : bytes < FILE_BYTES ? "; the file is truncated" : "");
    }
}
