package advtrain.data;

/**
 * CIFAR-10 images held as the bytes of the binary files (3 x 32 x 32 per image, planes R, G, B,
 * rows top to bottom) and their labels: 150 MB for the whole training set instead of 600 as floats.
 * Pixels become floats in [0, 1] only when a batch is filled.
 */
public final class Dataset {
    public static final int CHANNELS = 3, HEIGHT = 32, WIDTH = 32;
    public static final int IMAGE_BYTES = CHANNELS * HEIGHT * WIDTH;

    private final byte[] pixels;
    private final byte[] labels;
    private final int size;

    public Dataset(byte[] pixels, byte[] labels, int size) {
        if (pixels.length < (long) size * IMAGE_BYTES || labels.length < size) {
            throw new IllegalArgumentException("dataset arrays too small for " + size + " images");
        }
        this.pixels = pixels;
        this.labels = labels;
        this.size = size;
    }

    public int size() { return size; }

    public int label(int index) { return labels[index]; }

    /** The first n images (or all of them if there are fewer): for quick runs. */
    public Dataset limit(int n) {
        return n >= size ? this : new Dataset(pixels, labels, Math.max(0, n));
    }

    /**
     * Writes image {@code index} as floats in [0, 1], CHW order, at {@code dst[offset...]}: byte / 255,
     * a division as torchvision's ToTensor does (multiplying by 1/255 differs in the last bit).
     */
    public void copyImage(int index, float[] dst, int offset) {
        int base = index * IMAGE_BYTES;
        for (int i = 0; i < IMAGE_BYTES; i++) dst[offset + i] = (pixels[base + i] & 0xFF) / 255f;
    }

    /** The raw byte of one pixel value (0..255), for augmentation. */
    int pixel(int index, int channel, int y, int x) {
        return pixels[index * IMAGE_BYTES + (channel * HEIGHT + y) * WIDTH + x] & 0xFF;
    }
}
