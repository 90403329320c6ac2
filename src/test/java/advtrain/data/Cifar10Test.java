package advtrain.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class Cifar10Test {
    /** A full-size test_batch.bin (10,000 records): the sample's 256 real test records, over and over. */
    private static byte[] testBatch;

    @BeforeAll
    static void buildAFullSizeTestBatch() throws IOException {
        byte[] sample = uncompressed(Cifar10.find(RealData.sample(), Cifar10.TEST_FILE));
        testBatch = new byte[(int) Cifar10.FILE_BYTES];
        for (int at = 0; at < testBatch.length; at += sample.length) {
            System.arraycopy(sample, 0, testBatch, at, Math.min(sample.length, testBatch.length - at));
        }
    }

    private static byte[] uncompressed(Path gz) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void theSampleIsAFolderOfCifar10ForEveryCommand() throws IOException {
        Path sample = RealData.sample();
        assertEquals(sample, DataLocator.require(sample), "--data accepts the sample folder");
        assertEquals(List.of(), Cifar10.missingFiles(sample), "it needs only the files its sample file names");
        assertEquals(512, Cifar10.trainSize(sample));
        assertEquals(256, Cifar10.testSize(sample));
        Dataset train = Cifar10.train(sample, Cifar10.TRAIN_SIZE), test = Cifar10.test(sample, Cifar10.TEST_SIZE);
        assertEquals(512, train.size(), "a limit above what the sample holds means all of it");
        assertEquals(256, test.size());
        assertEquals(6, train.label(0), "the first training image is a frog");
        assertEquals(3, test.label(0), "the first test image is a cat");
        assertEquals(5, Cifar10.test(sample, 5).size(), "a limit keeps the first images");
        float[] image = new float[Dataset.IMAGE_BYTES];
        test.copyImage(0, image, 0);
        assertEquals((testBatch[1] & 0xFF) / 255f, image[0], 0f, "pixels are bytes / 255, red plane first");
        assertEquals((testBatch[1 + 1024] & 0xFF) / 255f, image[1024], 0f, "then the green plane");
    }

    @Test
    void aSampleFileIsCheckedLikeTheFilesItDescribes(@TempDir Path tmp) throws IOException {
        for (String name : List.of("data_batch_1.bin.gz", "test_batch.bin.gz")) {
            Files.copy(RealData.sample().resolve(name), tmp.resolve(name));
        }
        Path sampleFile = tmp.resolve(Cifar10.SAMPLE_FILE);
        Files.writeString(sampleFile, "data_batch_1=512\ntest_batch=300\n");
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("786688 bytes, expected 921900 (300 records") && message.contains("truncated"), message);

        Files.writeString(sampleFile, "data_batch_1=512\ntest_batch=200\n");
        message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("longer than 200 records"), message);

        for (String[] c : new String[][] {
                {"data_batch_1=512\ntest_batch=many\n", "test_batch=many, expected a number of records from 0 to 10000"},
                {"data_batch_1=512\ntest_batch=256\ndata_batch_9=3\n", "unknown file data_batch_9"},
                {"data_batch_1=512\n", "a sample needs records of data_batch_1 and test_batch"}}) {
            Files.writeString(sampleFile, c[0]);
            message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
            assertTrue(message.contains(sampleFile.toString()) && message.contains(c[1]), message);
            message = assertThrows(DataLocator.DataNotFoundException.class, () -> DataLocator.require(tmp)).getMessage();
            assertTrue(message.contains(c[1]), "the locator says what is wrong with the sample file: " + message);
        }
    }

    @Test
    @Tag(RealData.FULL)
    void theSampleIsTheFirstRecordsOfTheRealFiles() throws IOException {
        Path sample = RealData.sample(), full = RealData.full();
        for (String name : List.of("data_batch_1", Cifar10.TEST_FILE)) {
            byte[] part = uncompressed(Cifar10.find(sample, name));
            byte[] whole = uncompressed(Cifar10.find(full, name));
            assertArrayEquals(Arrays.copyOf(whole, part.length), part, name);
        }
    }

    @Test
    @Tag(RealData.FULL)
    void readsTheRealTestBatch() throws IOException {
        Path full = RealData.full();
        byte[] raw = uncompressed(Cifar10.find(full, Cifar10.TEST_FILE));
        Dataset test = Cifar10.test(full, Cifar10.TEST_SIZE);
        assertEquals(10_000, test.size());
        assertEquals(3, test.label(0), "the first test image is a cat");
        int[] counts = new int[10];
        for (int i = 0; i < test.size(); i++) counts[test.label(i)]++;
        int[] thousand = new int[10];
        Arrays.fill(thousand, 1000);
        assertArrayEquals(thousand, counts, "1,000 test images of each class");
        float[] image = new float[Dataset.IMAGE_BYTES];
        test.copyImage(9_999, image, 0);
        assertEquals((raw[9_999 * 3073 + 1] & 0xFF) / 255f, image[0], 0f, "the last image's first red byte");
    }

    @Test
    @Tag(RealData.FULL)
    void readsTheFirstTrainingFileAndOnlyWhatTheLimitNeeds(@TempDir Path tmp) throws IOException {
        // Only data_batch_1 in this folder: a limit of 10,000 must not need the other four files.
        Files.copy(Cifar10.find(RealData.full(), "data_batch_1"), tmp.resolve("data_batch_1.bin.gz"));
        Dataset train = Cifar10.train(tmp, 10_000);
        assertEquals(6, train.label(0), "the first training image is a frog");
        int[] counts = new int[10];
        for (int i = 0; i < train.size(); i++) counts[train.label(i)]++;
        assertArrayEquals(new int[] {1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}, counts,
                "the published per-class counts of data_batch_1");
        Cifar10.DataException e = assertThrows(Cifar10.DataException.class, () -> Cifar10.train(tmp, 10_001));
        assertTrue(e.getMessage().contains("data_batch_2"), e.getMessage());
    }

    @Test
    void plainAndGzippedFilesReadTheSame(@TempDir Path tmp) throws IOException {
        Path plainDir = Files.createDirectories(tmp.resolve("plain")), gzDir = Files.createDirectories(tmp.resolve("gz"));
        Files.write(plainDir.resolve("test_batch.bin"), testBatch);
        Files.write(gzDir.resolve("test_batch.bin.gz"), gzip(testBatch));
        Dataset plain = Cifar10.test(plainDir, Cifar10.TEST_SIZE), gzipped = Cifar10.test(gzDir, Cifar10.TEST_SIZE);
        Dataset sample = Cifar10.test(RealData.sample(), Cifar10.TEST_SIZE);
        int n = sample.size();
        float[] a = new float[Dataset.IMAGE_BYTES], b = new float[Dataset.IMAGE_BYTES], c = new float[Dataset.IMAGE_BYTES];
        for (int i = 0; i < Cifar10.TEST_SIZE; i += 97) {
            assertEquals(gzipped.label(i), plain.label(i));
            assertEquals(sample.label(i % n), plain.label(i));
            plain.copyImage(i, a, 0);
            gzipped.copyImage(i, b, 0);
            sample.copyImage(i % n, c, 0);
            assertArrayEquals(b, a);
            assertArrayEquals(c, a);
        }
    }

    @Test
    void aTruncatedFileIsNamedAndExplained(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("test_batch.bin");
        Files.write(file, Arrays.copyOf(testBatch, 3073 * 100 + 5));
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains(file.toString()), message);
        assertTrue(message.contains("307305 bytes, expected 30730000") && message.contains("not a multiple of 3073"), message);
    }

    @Test
    void aFileWithExtraBytesIsRefused(@TempDir Path tmp) throws IOException {
        Files.write(tmp.resolve("test_batch.bin"), Arrays.copyOf(testBatch, testBatch.length + 3073));
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("30733073 bytes, expected 30730000"), message);
    }

    @Test
    void aTruncatedGzipFileIsNamedAndExplained(@TempDir Path tmp) throws IOException {
        byte[] gz = gzip(testBatch);
        Path file = tmp.resolve("test_batch.bin.gz");
        Files.write(file, Arrays.copyOf(gz, gz.length / 2));
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains(file.toString()) && message.contains("truncated"), message);
    }

    @Test
    void aGzipFileHoldingTooFewRecordsIsRefused(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("test_batch.bin.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(testBatch, 0, 3073 * 9_999);
        }
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("30726927 bytes, expected 30730000") && message.contains("once uncompressed"), message);
    }

    @Test
    void aBadLabelIsNamedWithItsRecord(@TempDir Path tmp) throws IOException {
        byte[] copy = testBatch.clone();
        copy[3073 * 5] = 10;
        Path file = tmp.resolve("test_batch.bin");
        Files.write(file, copy);
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains(file.toString()) && message.contains("record 5 has label 10, expected 0-9"), message);
        copy[3073 * 5] = (byte) 200;
        Files.write(file, copy);
        message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("record 5 has label 200"), message);
    }

    @Test
    void aMissingFileIsNamedAndTheLocatorSaysHowToGetTheData(@TempDir Path tmp) throws IOException {
        String message = assertThrows(Cifar10.DataException.class, () -> Cifar10.test(tmp, 10)).getMessage();
        assertTrue(message.contains("test_batch.bin") && message.contains("missing"), message);

        Files.write(tmp.resolve("test_batch.bin"), testBatch);
        assertEquals(List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
                Cifar10.missingFiles(tmp));
        message = assertThrows(DataLocator.DataNotFoundException.class, () -> DataLocator.require(tmp)).getMessage();
        assertTrue(message.contains("./advtrain download --data " + tmp), message);
        assertTrue(message.contains("lacks data_batch_1.bin"), message);
    }

    @Test
    void theLocatorAcceptsTheDownloadLayout(@TempDir Path tmp) throws IOException {
        Path batches = Files.createDirectories(tmp.resolve(DataLocator.BATCHES_DIR));
        for (String name : Cifar10.allFiles()) Files.createFile(batches.resolve(name + ".bin"));
        assertEquals(batches, DataLocator.find(tmp), "DIR/cifar-10-batches-bin counts for --data DIR");
        assertEquals(batches, DataLocator.require(batches));
    }
}
