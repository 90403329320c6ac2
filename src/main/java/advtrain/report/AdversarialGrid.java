package advtrain.report;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.nn.Module;
import advtrain.tensor.Tensor;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The seed's "influence of ε on the pictures" figure: one row per test image; the clean image,
 * then for each ε the adversarial image and, beside it, its perturbation x_adv - x magnified so the
 * largest change in the column spans the grey scale (grey is no change). Under each image: the
 * predicted class and its probability, green when right, red when wrong.
 */
public final class AdversarialGrid {
    private static final Color RIGHT = new Color(0, 120, 0), WRONG = new Color(190, 0, 0), NOTE = new Color(90, 90, 90);
    private static final int SCALE = 3;

    private AdversarialGrid() {}

    /**
     * @param base   the attack; its ε is replaced by each of {@code epsList} (step size stays as configured,
     *               so the default ε/4 follows ε)
     * @param images n CIFAR-10 images, CHW floats in [0, 1], one after another
     * @param labels their classes
     */
    public static byte[] png(Backend backend, Module model, AttackConfig base, float[] epsList,
                             float[] images, int[] labels) throws IOException {
        List<AttackConfig> configs = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (float eps : epsList) {
            configs.add(base.withEps(eps));
            titles.add("eps=" + fmt(eps));
        }
        return png(backend, model, configs, titles, title(base) + ": predicted class and probability; δ = x_adv - x, magnified",
                images, labels);
    }

    /**
     * The same figure with one column pair per attack, whatever differs between them (ε, step size,
     * steps): the seed's "not enough disturbed picture" compares step sizes at one ε.
     *
     * @param columnTitles one per attack, above its adversarial images
     */
    public static byte[] png(Backend backend, Module model, List<AttackConfig> attacks, List<String> columnTitles, String title,
                             float[] images, int[] labels) throws IOException {
        if (attacks.size() != columnTitles.size()) throw new IllegalArgumentException(attacks.size() + " attacks, " + columnTitles.size() + " titles");
        int n = labels.length, size = Dataset.IMAGE_BYTES;
        Tensor x = Tensors.fromArray(backend, images, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH);
        float[] labelValues = new float[n];
        for (int i = 0; i < n; i++) labelValues[i] = labels[i];
        Tensor y = Tensors.fromArray(backend, labelValues, n);
        List<String> titles = new ArrayList<>(List.of("clean"));
        List<Integer> rules = new ArrayList<>(List.of(0));
        List<List<ImageGrid.Cell>> rows = new ArrayList<>();
        float[] cleanProbs = probabilities(backend, model, x);
        for (int i = 0; i < n; i++) {
            List<ImageGrid.Cell> row = new ArrayList<>();
            row.add(predictionCell(slice(images, i, size), cleanProbs, i, labels[i], true));
            rows.add(row);
        }
        try {
            for (int column = 0; column < attacks.size(); column++) {
                AttackConfig config = attacks.get(column);
                float[] adversarial;
                try (Attack attack = Attack.create(backend, config)) {
                    adversarial = Tensors.toArray(backend, attack.perturb(model, x, y));
                }
                Tensor xAdv = Tensors.fromArray(backend, adversarial, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH);
                float[] probs = probabilities(backend, model, xAdv);
                backend.release(xAdv);
                float largest = 0;
                for (int i = 0; i < adversarial.length; i++) largest = Math.max(largest, Math.abs(adversarial[i] - images[i]));
                float magnify = largest > 0 ? 0.5f / largest : 1f;
                titles.add(columnTitles.get(column));
                titles.add(largest > 0 ? "δ ×" + fmt(magnify) : "δ = 0");
                rules.add(titles.size() - 1);
                for (int i = 0; i < n; i++) {
                    float[] adv = slice(adversarial, i, size), delta = new float[size];
                    double l2 = 0, linf = 0;
                    for (int k = 0; k < size; k++) {
                        float d = adv[k] - images[i * size + k];
                        delta[k] = 0.5f + magnify * d;
                        l2 += (double) d * d;
                        linf = Math.max(linf, Math.abs(d));
                    }
                    rows.get(i).add(predictionCell(adv, probs, i, labels[i], false));
                    String norms = config.norm() == advtrain.attack.Norm.L2 ? "L2 " + fmt((float) Math.sqrt(l2)) : "Linf " + fmt((float) linf);
                    rows.get(i).add(new ImageGrid.Cell(delta, norms, NOTE));
                }
            }
        } finally {
            backend.release(x);
            backend.release(y);
        }
        return ImageGrid.png(title, titles, rows, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH, SCALE,
                rules.subList(0, rules.size() - 1));
    }

    /** "PGD L∞, 10 steps of eps/4": the attack, for a figure's title. */
    public static String title(AttackConfig c) {
        StringBuilder s = new StringBuilder(c.kind().name()).append(' ').append(c.norm().symbol());
        if (c.kind() == AttackConfig.Kind.PGD) {
            s.append(", ").append(c.steps()).append(" steps of ").append(Float.isNaN(c.stepSize()) ? "eps/4" : fmt(c.stepSize()));
            if (c.randomStart()) s.append(", random start");
            if (c.restarts() > 1) s.append(", ").append(c.restarts()).append(" restarts");
        }
        if (c.targeted()) {
            s.append(c.targetClass() == AttackConfig.LEAST_LIKELY ? ", targeted (least likely class)"
                    : ", targeted at " + Cifar10.CLASSES.get(c.targetClass()));
        }
        return s.toString();
    }

    /** Picks up to {@code count} test images of different classes, the first of each class in file order. */
    public static int[] pickDistinctClasses(Dataset data, int count) {
        List<Integer> picked = new ArrayList<>();
        boolean[] seen = new boolean[Cifar10.CLASSES.size()];
        for (int i = 0; i < data.size() && picked.size() < count; i++) {
            if (!seen[data.label(i)]) {
                seen[data.label(i)] = true;
                picked.add(i);
            }
        }
        for (int i = 0; i < data.size() && picked.size() < count; i++) if (!picked.contains(i)) picked.add(i);
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    private static ImageGrid.Cell predictionCell(float[] chw, float[] probs, int i, int label, boolean clean) {
        int classes = Cifar10.CLASSES.size(), best = 0;
        for (int c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
        String caption = String.format(Locale.ROOT, "%s %.0f%%", Cifar10.CLASSES.get(best), 100 * probs[i * classes + best]);
        return new ImageGrid.Cell(chw, caption, best == label ? RIGHT : WRONG);
    }

    /** softmax of the model's log-probabilities, [n * classes] on the host. */
    private static float[] probabilities(Backend backend, Module model, Tensor x) {
        float[] logProbs;
        try (Tape tape = new Tape(backend); Tape.NoGrad off = tape.noGrad()) {
            logProbs = Tensors.toArray(backend, model.forward(tape.input(x, false)).data());
        }
        for (int i = 0; i < logProbs.length; i++) logProbs[i] = (float) Math.exp(logProbs[i]);
        return logProbs;
    }

    private static float[] slice(float[] all, int i, int size) {
        float[] one = new float[size];
        System.arraycopy(all, i * size, one, 0, size);
        return one;
    }

    private static String fmt(float v) {
        if (v >= 10) return String.format(Locale.ROOT, "%.0f", v);
        String s = String.format(Locale.ROOT, "%.3g", v);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
