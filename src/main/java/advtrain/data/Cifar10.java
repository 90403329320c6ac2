package advtrain.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the official CIFAR-10 binary files (cifar-10-batches-bin): each file is 10,000 records of
 * 3,073 bytes, a label byte 0..9 then 1,024 red, 1,024 green and 1,024 blue bytes. Every file is
 * read as "NAME.bin" or, failing that, "NAME.bin.gz". Files come from disks and downloads, so every
 * size and label is checked, and a problem names the file and what is wrong with it.
 *
 * <p>A folder may also hold a SAMPLE of the data set: the first records of some of the files, with a
 * {@value #SAMPLE_FILE} that says how many each holds (for example {@code data_batch_1=1000},
 * {@code test_batch=500}; files it leaves out hold none). The tests' fixture is such a folder. Each
 * file must then hold exactly its stated number of records, and limits above what the sample holds
 * mean all of it.
 */
public final class Cifar10 {
    public static final int RECORD_BYTES = 1 + Dataset.IMAGE_BYTES;
    public static final int RECORDS_PER_FILE = 10_000;
    public static final long FILE_BYTES = (long) RECORDS_PER_FILE * RECORD_BYTES;  // 30,730,000
    public static final List<String> TRAIN_FILES =
            List.of("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5");
    public static final String TEST_FILE = "test_batch";
    public static final int TRAIN_SIZE = TRAIN_FILES.size() * RECORDS_PER_FILE, TEST_SIZE = RECORDS_PER_FILE;
    public static final String SAMPLE_FILE = "sample.properties";
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

    /**
     * The training set (the first {@code limit} images; only the files they need are read). In a sample
     * folder, a limit above what it holds means all of it.
     */
    public static Dataset train(Path dir, int limit) throws IOException {
        Map<String, Integer> records = records(dir);
        List<String> files = new ArrayList<>();
        int wanted = Math.max(1, limit), held = 0;
        for (String name : TRAIN_FILES) {
            if (held >= wanted || records.get(name) == 0) break;
            files.add(name);
            held += records.get(name);
        }
        return read(dir, files, records).limit(wanted);
    }

    /** The test set (the first {@code limit} images). */
    public static Dataset test(Path dir, int limit) throws IOException {
        return read(dir, List.of(TEST_FILE), records(dir)).limit(Math.max(1, limit));
    }

    /** How many training images the folder holds: 50,000, or what its sample file says. */
    public static int trainSize(Path dir) throws DataException {
        Map<String, Integer> records = records(dir);
        return TRAIN_FILES.stream().mapToInt(records::get).sum();
    }

    /** How many test images the folder holds: 10,000, or what its sample file says. */
    public static int testSize(Path dir) throws DataException {
        return records(dir).get(TEST_FILE);
    }

    /**
     * The number of records each of the six files holds: {@value #RECORDS_PER_FILE} each, or in a sample
     * folder what its {@value #SAMPLE_FILE} says (0 for the files it leaves out).
     */
    public static Map<String, Integer> records(Path dir) throws DataException {
        Map<String, Integer> records = new LinkedHashMap<>();
        Path sample = dir.resolve(SAMPLE_FILE);
        if (!Files.isRegularFile(sample)) {
            for (String name : allFiles()) records.put(name, RECORDS_PER_FILE);
            return records;
        }
        Properties declared = new Properties();
        try (InputStream in = Files.newInputStream(sample)) {
            declared.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new DataException(sample + ": cannot be read (" + e.getMessage() + ")");
        }
        for (String key : declared.stringPropertyNames()) {
            if (!allFiles().contains(key)) {
                throw new DataException(sample + ": unknown file " + key + ", expected some of " + String.join(", ", allFiles()));
            }
        }
        for (String name : allFiles()) {
            String value = declared.getProperty(name, "0").strip();
            int n;
            try {
                n = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0 || n > RECORDS_PER_FILE) {
                throw new DataException(sample + ": " + name + "=" + value + ", expected a number of records from 0 to " + RECORDS_PER_FILE);
            }
            records.put(name, n);
        }
        if (records.get(TRAIN_FILES.get(0)) == 0 || records.get(TEST_FILE) == 0) {
            throw new DataException(sample + ": a sample needs records of " + TRAIN_FILES.get(0) + " and " + TEST_FILE);
        }
        return records;
    }

    private static Dataset read(Path dir, List<String> names, Map<String, Integer> records) throws IOException {
        int n = names.stream().mapToInt(records::get).sum();
        byte[] pixels = new byte[n * Dataset.IMAGE_BYTES];
        byte[] labels = new byte[n];
        int first = 0;
        for (String name : names) {
            readFile(find(dir, name), records.get(name), pixels, labels, first);
            first += records.get(name);
        }
        return new Dataset(pixels, labels, n);
    }

    /** NAME.bin if present, else NAME.bin.gz; the message says which names were tried. */
    public static Path find(Path dir, String name) throws DataException {
        Path plain = dir.resolve(name + ".bin"), gz = dir.resolve(name + ".bin.gz");
        if (Files.isRegularFile(plain)) return plain;
        if (Files.isRegularFile(gz)) return gz;
        throw new DataException("missing CIFAR-10 file " + plain + " (or " + gz.getFileName() + ")");
    }

    /**
     * The data files missing from dir (as both .bin and .bin.gz), in file order; empty when complete. In a
     * sample folder only the files its sample file names are needed (an unreadable one: all six).
     */
    public static List<String> missingFiles(Path dir) {
        Map<String, Integer> records;
        try {
            records = records(dir);
        } catch (DataException e) {
            records = Map.of();
        }
        List<String> missing = new ArrayList<>();
        for (String name : allFiles()) {
            if (records.getOrDefault(name, RECORDS_PER_FILE) == 0) continue;
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
        readFile(file, n, new byte[n * Dataset.IMAGE_BYTES], new byte[n], 0);
    }

    /** Reads a file that must hold exactly {@code records} records into the arrays, from record {@code firstRecord} on. */
    private static void readFile(Path file, int records, byte[] pixels, byte[] labels, int firstRecord) throws IOException {
        long expectedBytes = (long) records * RECORD_BYTES;
        boolean gzipped = file.getFileName().toString().endsWith(".gz");
        if (!gzipped) {
            long size;
            try {
                size = Files.size(file);  // a plain file's size is known before reading a byte
            } catch (IOException e) {
                throw new DataException(file + ": cannot be read (" + e + ")");
            }
            if (size != expectedBytes) throw new DataException(file + ": " + sizeProblem(size, records));
        }
        byte[] record = new byte[RECORD_BYTES];
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gzipped ? new GZIPInputStream(raw, 1 << 16) : raw) {
            for (int r = 0; r < records; r++) {
                int got = in.readNBytes(record, 0, RECORD_BYTES);
                if (got < RECORD_BYTES) {
                    throw new DataException(file + ": " + sizeProblem((long) r * RECORD_BYTES + got, records)
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
                throw new DataException(file + ": longer than " + records + " records of " + RECORD_BYTES
                        + " bytes (" + expectedBytes + " bytes)" + (gzipped ? " once uncompressed" : ""));
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

    private static String sizeProblem(long bytes, int records) {
        long expected = (long) records * RECORD_BYTES;
        return bytes + " bytes, expected " + expected + " (" + records + " records of " + RECORD_BYTES + " bytes)"
                + (bytes % RECORD_BYTES != 0 ? "; not a multiple of " + RECORD_BYTES + ", so the file is truncated or not CIFAR-10"
                : bytes < expected ? "; the file is truncated" : "");
    }
}
