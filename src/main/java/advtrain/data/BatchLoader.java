package advtrain.data;

import advtrain.backend.Rng;

import java.util.SplittableRandom;

/**
 * Cuts a dataset into batches, in file order or in a seeded shuffle that depends only on
 * (seed, epoch), so a resumed run sees exactly the batches an uninterrupted one would. Optional
 * augmentation (random crop from the image padded by 4 zero pixels, and a horizontal flip) draws
 * from the counter-based {@link Rng}, keyed by (seed, epoch, position). Filling a batch writes into
 * the caller's arrays: nothing is allocated per batch.
 */
public final class BatchLoader {
    private static final int PAD = 4;

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle, augment;
    private final long seed;
    private final int[] order;
    private int epoch = -1;
    private long augmentStream;

    public BatchLoader(Dataset data, int batchSize, boolean shuffle, boolean augment, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.augment = augment;
        this.seed = seed;
        this.order = new int[data.size()];
    }

    public int batchSize() { return batchSize; }

    public int size() { return data.size(); }

    /** Batches per epoch; the last one may be smaller (PyTorch's DataLoader keeps it too). */
    public int batches() { return (data.size() + batchSize - 1) / batchSize; }

    /** Sets the image order for this epoch (0-based). */
    public void startEpoch(int epoch) {
        this.epoch = epoch;
        long epochSeed = seed * 0x9E3779B97F4A7C15L + epoch;
        augmentStream = new SplittableRandom(epochSeed ^ 0x5DEECE66DL).nextLong();  // a second, unrelated stream
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (!shuffle) return;
        SplittableRandom random = new SplittableRandom(epochSeed);
        for (int i = order.length - 1; i > 0; i--) {  // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
    }

    /** Number of images in batch b. */
    public int count(int b) { return Math.min(batchSize, data.size() - b * batchSize); }

    /**
     * Fills images (count * 3072 floats in [0, 1], NCHW) and labels (count floats) for batch b of
     * the current epoch; returns the count.
     */
    public int fill(int b, float[] images, float[] labels) {
        if (epoch < 0) throw new IllegalStateException("call startEpoch first");
        if (b < 0 || b >= batches()) throw new IndexOutOfBoundsException("batch " + b + " of " + batches());
        int count = count(b);
        if (images.length < count * Dataset.IMAGE_BYTES || labels.length < count) {
            throw new IllegalArgumentException("arrays too small for a batch of " + count);
        }
        for (int i = 0; i < count; i++) {
            int position = b * batchSize + i, index = order[position];
            labels[i] = data.label(index);
            if (augment) augmentInto(index, position, images, i * Dataset.IMAGE_BYTES);
            else data.copyImage(index, images, i * Dataset.IMAGE_BYTES);
        }
        return count;
    }

    /**
     * Random crop of the image padded by 4 zero pixels on every side, then a horizontal flip with
     * probability 1/2, as torchvision's RandomCrop(32, padding=4) + RandomHorizontalFlip. The three
     * random numbers of the image at this position are numbers 3p, 3p+1, 3p+2 of the epoch's stream.
     */
    private void augmentInto(int index, int position, float[] dst, int offset) {
        int dy = (int) (Rng.unit(augmentStream, 3L * position) * (2 * PAD + 1)) - PAD;
        int dx = (int) (Rng.unit(augmentStream, 3L * position + 1) * (2 * PAD + 1)) - PAD;
        boolean flip = Rng.unit(augmentStream, 3L * position + 2) < 0.5f;
        for (int c = 0; c < Dataset.CHANNELS; c++) {
            for (int y = 0; y < Dataset.HEIGHT; y++) {
                for (int x = 0; x < Dataset.WIDTH; x++) {
                    int sy = y + dy, sx = (flip ? Dataset.WIDTH - 1 - x : x) + dx;
                    boolean inside = sy >= 0 && sy < Dataset.HEIGHT && sx >= 0 && sx < Dataset.WIDTH;
                    dst[offset + (c * Dataset.HEIGHT + y) * Dataset.WIDTH + x] =
                            inside ? data.pixel(index, c, sy, sx) / 255f : 0f;
                }
            }
        }
    }
}
