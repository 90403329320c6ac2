package advtrain.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the official CIFAR-10 binary files (cifar-10-batches-bin): each file is 10,000 records of
 * 3,073 bytes, a label byte 0..9 then 1,024 red, 1,024 green and 1,024 blue bytes. Every file is
 * read as "NAME.bin" or, failing that, "NAME.bin.gz".
 */
public final class Cifar10 {
    public static final int RECORD_BYTES = 1 + Dataset.IMAGE_BYTES;
    public static final int RECORDS_PER_FILE = 10_000;
    public static final List<String> TRAIN_FILES =
            List.of("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5");
    public static final String TEST_FILE = "test_batch";
    public static final List<String> CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private Cifar10() {}

    /** A problem with a data file; the message names the file and what is wrong. */
    public static class DataException extends IOException {
        public DataException(String message) { super(message); }
    }

    /** The training set (the first {@code limit} images; only the files they need are read). */
    public static Dataset train(Path dir, int limit) throws IOException {
        int wanted = Math.min(limit, TRAIN_FILES.size() * RECORDS_PER_FILE);
        int files = Math.max(1, (wanted + RECORDS_PER_FILE - 1) / RECORDS_PER_FILE);
        return read(dir, TRAIN_FILES.subList(0, files)).limit(wanted);
    }

    public static Dataset test(Path dir, int limit) throws IOException {
        return read(dir, List.of(TEST_FILE)).limit(limit);
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

    /** True when every file of the data set is in dir (as .bin or .bin.gz). */
    public static boolean isComplete(Path dir) {
        List<String> all = new ArrayList<>(TRAIN_FILES);
        all.add(TEST_FILE);
        for (String name : all) {
            if (!Files.isRegularFile(dir.resolve(name + ".bin")) && !Files.isRegularFile(dir.resolve(name + ".bin.gz"))) return false;
        }
        return true;
    }

    private static void readFile(Path file, byte[] pixels, byte[] labels, int firstRecord) throws IOException {
        byte[] record = new byte[RECORD_BYTES];
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
            for (int r = 0; r < RECORDS_PER_FILE; r++) {
                int got = in.readNBytes(record, 0, RECORD_BYTES);
                if (got < RECORD_BYTES) {
                    long bytes = (long) r * RECORD_BYTES + got;
                    throw new DataException(file + ": truncated: " + bytes + " bytes, expected "
                            + (long) RECORDS_PER_FILE * RECORD_BYTES + " (10,000 records of 3,073 bytes)"
                            + (bytes % RECORD_BYTES != 0 ? "; not a multiple of 3,073" : ""));
                }
                int label = record[0];
                if (label < 0 || label > 9) {
                    throw new DataException(file + ": record " + r + " has label " + (label & 0xFF) + ", expected 0-9");
                }
                labels[firstRecord + r] = (byte) label;
                System.arraycopy(record, 1, pixels, (firstRecord + r) * Dataset.IMAGE_BYTES, Dataset.IMAGE_BYTES);
            }
            if (in.read() != -1) {
                throw new DataException(file + ": longer than 10,000 records of 3,073 bytes (30,730,000 bytes)");
            }
        } catch (java.util.zip.ZipException e) {
            throw new DataException(file + ": corrupt gzip data (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            throw new DataException(file + ": gzip stream ends early (truncated file)");
        }
    }
}
