package advtrain.attack;

import advtrain.backend.Backend;
import advtrain.nn.Module;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The Square attack, L∞ (Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a query-efficient
 * black-box adversarial attack via random search", ECCV 2020): score-based black-box, it sees only the
 * model's outputs, never a gradient.
 *
 * <pre>
 *   init: δ = ±ε per channel and column (vertical stripes, the sign drawn uniformly), x = clip(x0 + δ)
 *   repeat until the image is misclassified or the queries are spent:
 *       s = the side of the square at this iteration (from the schedule of p, the share of pixels changed)
 *       draw a window s×s at a uniform position, and for each channel a sign ±1
 *       candidate = x with the window set to clip(x0 ± ε)          (redrawn if it changes nothing)
 *       keep the candidate if its margin z_y − max_{j≠y} z_j is lower
 * </pre>
 * The schedule is AutoAttack's: p starts at p_init = 0.8 and halves after 10, 50, 200, 500, 1000, 2000,
 * 4000, 6000 and 8000 of 10,000 iterations, rescaled to the query budget; s = round(√(p·h·w)), at least
 * 1 and at most h − 1. The initial point costs one query; each iteration one more per image still
 * correctly classified.
 */
final class SquareAttack extends HostAttack {
    static final double P_INIT = 0.8;
    private static final int[] HALVINGS = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};   // of 10,000 iterations
    private static final int REDRAWS = 10;
    private int[] queries;
    private long calls;

    SquareAttack(Backend backend, AttackConfig config, int batchSize) {
        super(backend, config, batchSize);
        if (config.norm() != Norm.LINF) throw new IllegalArgumentException("the Square attack here is L-inf only (--norm linf)");
    }

    /** p at iteration {@code iteration} of a run of {@code budget} queries. */
    static double share(int iteration, int budget) {
        int scaled = (int) ((long) iteration * 10000 / budget);
        double p = P_INIT;
        for (int halving : HALVINGS) if (scaled > halving) p /= 2;
        return p;
    }

    /** The side of the square at this iteration, for images of height × width pixels. */
    static int side(int iteration, int budget, int height, int width) {
        int s = (int) Math.round(Math.sqrt(share(iteration, budget) * height * width));
        return Math.min(Math.max(s, 1), height - 1);
    }

    @Override int[] lastQueries() { return queries; }

    @Override void run(Module model, Images images, boolean[] attacked, float[] adversarial) {
        int n = images.count();
        int[] todo = Apgd.indices(attacked, new boolean[n]);
        queries = new int[todo.length];
        if (config.eps() == 0) return;
        long call = calls++;
        int classes = classesOf(model, images);
        for (int from = 0; from < todo.length; from += batchSize) {
            int m = Math.min(batchSize, todo.length - from);
            int[] chunk = Arrays.copyOfRange(todo, from, from + m);
            SplittableRandom[] random = new SplittableRandom[m];   // one stream per image, by its index in the set
            for (int i = 0; i < m; i++) {
                random[i] = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + (call + 1) * 0xBF58476D1CE4E5B9L
                        + chunk[i] * 0xD1B54A32D192ED03L);
            }
            runChunk(model, images, chunk, classes, random, adversarial, from);
        }
    }

    private void runChunk(Module model, Images images, int[] chunk, int classes, SplittableRandom[] random,
                          float[] adversarial, int queryOffset) {
        int m = chunk.length, size = images.size(), channels = images.channels(), height = images.height(), width = images.width();
        float eps = config.eps();
        int capacity = 1;
        while (capacity < m) capacity <<= 1;   // scores() sends batches rounded up to a power of two
        float[] x0 = new float[m * size], best = new float[m * size], staging = new float[capacity * size];
        int[] labels = new int[m];
        for (int i = 0; i < m; i++) {
            copyImage(images.pixels(), chunk[i], x0, i, size);
            labels[i] = images.labels()[chunk[i]];
            for (int c = 0; c < channels; c++) {          // vertical stripes: one sign per channel and column
                for (int col = 0; col < width; col++) {
                    float delta = random[i].nextBoolean() ? eps : -eps;
                    for (int row = 0; row < height; row++) {
                        int at = i * size + (c * height + row) * width + col;
                        best[at] = clip(x0[at] + delta);
                    }
                }
            }
        }
        float[] out = scores(model, best, m, images, null);
        double[] margin = new double[m];
        int[] used = new int[m];
        for (int i = 0; i < m; i++) {
            margin[i] = Losses.MARGIN.value(out, i, classes, labels[i], -1, null);
            used[i] = 1;
        }
        int[] active = new int[m], window = new int[m * 2];
        for (int iteration = 1; iteration < config.queries(); iteration++) {
            int count = 0;
            for (int i = 0; i < m; i++) if (margin[i] > 0) active[count++] = i;
            if (count == 0) break;
            int s = side(iteration - 1, config.queries(), height, width);
            for (int k = 0; k < count; k++) {
                int i = active[k];
                System.arraycopy(best, i * size, staging, k * size, size);
                int top = random[i].nextInt(height - s + 1), left = random[i].nextInt(width - s + 1);
                window[2 * k] = top;
                window[2 * k + 1] = left;
                for (int attempt = 0; attempt < REDRAWS; attempt++) {
                    if (paint(staging, k, x0, i, best, top, left, s, images, random[i])) break;
                }
            }
            out = scores(model, staging, count, images, out);
            for (int k = 0; k < count; k++) {
                int i = active[k];
                used[i]++;
                double candidate = Losses.MARGIN.value(out, k, classes, labels[i], -1, null);
                if (candidate < margin[i]) {
                    margin[i] = candidate;
                    copyWindow(staging, k, best, i, window[2 * k], window[2 * k + 1], s, images);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            System.arraycopy(best, i * size, adversarial, chunk[i] * size, size);
            queries[queryOffset + i] = used[i];
        }
    }

    /**
     * Sets the s×s window at (top, left) of staging image k to clip(x0 ± ε), one sign per channel;
     * whether that changed any pixel of the current best image i.
     */
    private boolean paint(float[] staging, int k, float[] x0, int i, float[] best, int top, int left, int s, Images g,
                          SplittableRandom random) {
        int size = g.size(), height = g.height(), width = g.width();
        float eps = config.eps();
        boolean changed = false;
        for (int c = 0; c < g.channels(); c++) {
            float delta = random.nextBoolean() ? eps : -eps;
            for (int row = top; row < top + s; row++) {
                int offset = (c * height + row) * width;
                for (int col = left; col < left + s; col++) {
                    float v = clip(x0[i * size + offset + col] + delta);
                    staging[k * size + offset + col] = v;
                    changed |= Math.abs(v - best[i * size + offset + col]) >= 1e-7f;
                }
            }
        }
        return changed;
    }

    private static void copyWindow(float[] staging, int k, float[] best, int i, int top, int left, int s, Images g) {
        int size = g.size();
        for (int c = 0; c < g.channels(); c++) {
            for (int row = top; row < top + s; row++) {
                int offset = (c * g.height() + row) * g.width() + left;
                System.arraycopy(staging, k * size + offset, best, i * size + offset, s);
            }
        }
    }

    private static float clip(float v) { return Math.min(1f, Math.max(0f, v)); }
}
