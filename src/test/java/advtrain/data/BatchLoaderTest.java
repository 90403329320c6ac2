package advtrain.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class BatchLoaderTest {
    private static final int N = 1000;

    /** Random pixels, except that the first two bytes of each image spell its index. */
    private static Dataset numbered(int n) {
        SplittableRandom random = new SplittableRandom(7);
        byte[] pixels = new byte[n * Dataset.IMAGE_BYTES], labels = new byte[n];
        random.nextBytes(pixels);
        for (int i = 0; i < n; i++) {
            pixels[i * Dataset.IMAGE_BYTES] = (byte) (i & 0xFF);
            pixels[i * Dataset.IMAGE_BYTES + 1] = (byte) (i >> 8);
            labels[i] = (byte) random.nextInt(10);
        }
        return new Dataset(pixels, labels, n);
    }

    private static int indexOf(float[] images, int image) {
        int base = image * Dataset.IMAGE_BYTES;
        return Math.round(images[base] * 255) + 256 * Math.round(images[base + 1] * 255);
    }

    /** The dataset indices of one epoch's images, in the order the loader gives them. */
    private static int[] epochOrder(BatchLoader loader, Dataset data, int epoch) {
        int[] order = new int[loader.size()];
        float[] images = new float[loader.batchSize() * Dataset.IMAGE_BYTES], labels = new float[loader.batchSize()];
        loader.startEpoch(epoch);
        int at = 0;
        for (int b = 0; b < loader.batches(); b++) {
            int count = loader.fill(b, images, labels);
            assertEquals(loader.count(b), count);
            for (int i = 0; i < count; i++) {
                int index = indexOf(images, i);
                assertEquals(data.label(index), (int) labels[i], "the label travels with its image");
                order[at++] = index;
            }
        }
        assertEquals(loader.size(), at);
        return order;
    }

    @Test
    void withoutShuffleBatchesFollowFileOrderAndKeepTheLastPartialBatch() {
        Dataset data = numbered(N);
        BatchLoader loader = new BatchLoader(data, 32, false, false, 5);
        assertEquals(32, loader.batches(), "1000 / 32 rounded up");
        assertEquals(1000 - 31 * 32, loader.count(31));
        int[] order = epochOrder(loader, data, 3);
        for (int i = 0; i < N; i++) assertEquals(i, order[i]);
        float[] images = new float[32 * Dataset.IMAGE_BYTES], expected = new float[Dataset.IMAGE_BYTES];
        loader.fill(1, images, new float[32]);
        data.copyImage(32, expected, 0);
        for (int i = 0; i < Dataset.IMAGE_BYTES; i++) assertEquals(expected[i], images[i], 0f, "pixel " + i);
    }

    @Test
    void theShuffleIsAPermutationFixedBySeedAndEpoch() {
        Dataset data = numbered(N);
        int[] a = epochOrder(new BatchLoader(data, 32, true, false, 11), data, 0);
        Set<Integer> seen = new HashSet<>();
        for (int i : a) seen.add(i);
        assertEquals(N, seen.size(), "every image exactly once");
        assertArrayEquals(a, epochOrder(new BatchLoader(data, 32, true, false, 11), data, 0), "same seed and epoch, same order");
        assertArrayEquals(a, epochOrder(new BatchLoader(data, 50, true, false, 11), data, 0), "the order does not depend on the batch size");
        BatchLoader resumed = new BatchLoader(data, 32, true, false, 11);
        epochOrder(resumed, data, 4);
        assertArrayEquals(a, epochOrder(resumed, data, 0), "an epoch's order does not depend on the epochs before it");
        assertFalse(java.util.Arrays.equals(a, epochOrder(new BatchLoader(data, 32, true, false, 11), data, 1)), "a new order each epoch");
        assertFalse(java.util.Arrays.equals(a, epochOrder(new BatchLoader(data, 32, true, false, 12), data, 0)), "a new order for another seed");
        int inPlace = 0;
        for (int i = 0; i < N; i++) if (a[i] == i) inPlace++;
        assertTrue(inPlace < 20, "shuffled, not nearly file order: " + inPlace + " in place");
    }

    @Test
    void augmentationIsACropOfTheZeroPaddedImageAndAFlip() {
        Dataset data = numbered(200);
        BatchLoader loader = new BatchLoader(data, 200, false, true, 3);
        float[] images = new float[200 * Dataset.IMAGE_BYTES], labels = new float[200];
        Set<String> seen = new HashSet<>();
        int flips = 0;
        for (int epoch = 0; epoch < 10; epoch++) {
            loader.startEpoch(epoch);
            loader.fill(0, images, labels);
            for (int i = 0; i < 200; i++) {
                int[] found = matchCrop(data, i, images, i);
                assertNotNull(found, "image " + i + " of epoch " + epoch + " is a crop (offsets -4..4) of the padded image, maybe flipped");
                seen.add(found[0] + "," + found[1]);
                flips += found[2];
                assertEquals(data.label(i), (int) labels[i]);
            }
        }
        assertEquals(81, seen.size(), "every offset in [-4, 4] x [-4, 4] occurs");
        assertTrue(flips > 800 && flips < 1200, "about half flipped: " + flips + " of 2000");

        float[] again = new float[images.length];
        loader.startEpoch(9);
        loader.fill(0, again, labels);
        assertArrayEquals(images, again, "the same (seed, epoch) gives the same augmentation");
        BatchLoader other = new BatchLoader(data, 200, false, true, 4);
        other.startEpoch(9);
        other.fill(0, again, labels);
        assertFalse(java.util.Arrays.equals(images, again), "another seed, other crops");
    }

    /** {dy, dx, flipped} such that the filled image equals the crop, or null. */
    private static int[] matchCrop(Dataset data, int index, float[] images, int image) {
        float[] original = new float[Dataset.IMAGE_BYTES];
        data.copyImage(index, original, 0);
        int base = image * Dataset.IMAGE_BYTES;
        for (int flip = 0; flip < 2; flip++) {
            for (int dy = -4; dy <= 4; dy++) {
                next:
                for (int dx = -4; dx <= 4; dx++) {
                    for (int c = 0; c < 3; c++) {
                        for (int y = 0; y < 32; y++) {
                            for (int x = 0; x < 32; x++) {
                                int sy = y + dy, sx = (flip == 1 ? 31 - x : x) + dx;
                                float want = sy >= 0 && sy < 32 && sx >= 0 && sx < 32 ? original[(c * 32 + sy) * 32 + sx] : 0f;
                                if (images[base + (c * 32 + y) * 32 + x] != want) continue next;
                            }
                        }
                    }
                    return new int[] {dy, dx, flip};
                }
            }
        }
        return null;
    }

    @Test
    void badArgumentsAreRefused() {
        Dataset data = numbered(10);
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(data, 0, true, false, 0));
        BatchLoader loader = new BatchLoader(data, 4, true, false, 0);
        assertThrows(IllegalStateException.class, () -> loader.fill(0, new float[4 * 3072], new float[4]), "startEpoch first");
        loader.startEpoch(0);
        assertThrows(IndexOutOfBoundsException.class, () -> loader.fill(3, new float[4 * 3072], new float[4]));
        assertThrows(IllegalArgumentException.class, () -> loader.fill(0, new float[3072], new float[4]));
    }
}
