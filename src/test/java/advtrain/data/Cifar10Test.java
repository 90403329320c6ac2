package advtrain.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class Cifar10Test {
    private static byte[] testBatch;  // the real test_batch.bin, uncompressed

    @BeforeAll
    static void readRealTestBatch() throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(Cifar10.find(RealData.dir(), Cifar10.TEST_FILE)))) {
            testBatch = in.readAllBytes();
        }
    }

    @Test
    void readsTheRealTestBatch() throws IOException {
        Dataset test = Cifar10.test(RealData.dir(), Cifar10.TEST_SIZE);
        assertEquals(10_000, test.size());
        assertEquals(3, test.label(0), "the first test image is a cat");
        int[] counts = new int[10];
        for (int i = 0; i < test.size(); i++) counts[test.label(i)]++;
        int[] thousand = new int[10];
        Arrays.fill(thousand, 1000);
        assertArrayEquals(thousand, counts, "1,000 test images of each class");
        float[] image = new float[Dataset.IMAGE_BYTES];
        test.copyImage(0, image, 0);
        assertEquals((testBatch[1] & 0xFF) / 255f, image[0], 0f, "pixels are bytes / 255, red plane first");
        assertEquals((testBatch[1 + 1024] & 0xFF) / 255f, image[1024], 0f, "then the green plane");
        assertEquals(5, Cifar10.test(RealData.dir(), 5).size(), "a limit keeps the first images");
    }

    @Test
    void readsTheFirstTrainingFileAndOnlyWhatTheLimitNeeds(@TempDir Path tmp) throws IOException {
        // Only data_batch_1 in this folder: a limit of 10,000 must not need the other four files.
        Files.copy(Cifar10.find(RealData.dir(), "data_batch_1"), tmp.resolve("data_batch_1.bin.gz"));
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
        Files.write(tmp.resolve("test_batch.bin"), testBatch);
        Dataset plain = Cifar10.test(tmp, 100);
        Dataset real = Cifar10.test(RealData.dir(), 100);
        float[] a = new float[Dataset.IMAGE_BYTES], b = new float[Dataset.IMAGE_BYTES];
        for (int i = 0; i < 100; i++) {
            assertEquals(real.label(i), plain.label(i));
            plain.copyImage(i, a, 0);
            real.copyImage(i, b, 0);
            assertArrayEquals(b, a);
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
        byte[] gz = Files.readAllBytes(Cifar10.find(RealData.dir(), Cifar10.TEST_FILE));
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
        assertEquals(java.util.List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
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
