package advtrain.experiments;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.attack.RobustnessEvaluator;
import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.report.AdversarialGrid;
import advtrain.report.ImageGrid;
import advtrain.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The picture figures: which test images they show, the grid of attacked pictures (PNG) and, per
 * picture and attack, what the model predicts and how large the change is (CSV). Figure 2 (PGD at
 * growing ε) is drawn here; figure 4's pictures use {@link #pictureFigure} too.
 */
final class PictureFigures {
    private final Backend backend;
    private final Plan plan;
    private final Path out;
    private final PrintStream log;

    PictureFigures(Backend backend, Plan plan, Path out, PrintStream log) {
        this.backend = backend;
        this.plan = plan;
        this.out = out;
        this.log = log;
    }

    /** Figure 2: the picked test images under PGD at each ε of the plan's grid, and what the pictures' numbers say. */
    Reproduce.Pictures pictures(Reproduce.Model model, Dataset test, int[] picked) throws IOException {
        AttackConfig base = AttackConfig.pgd(0f);
        List<AttackConfig> attacks = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (float eps : plan.gridEps()) {
            attacks.add(base.withEps(eps));
            titles.add("eps=" + Plan.fmt(eps));
        }
        List<Reproduce.Picture> pictures = pictureFigure(model.net(), test, picked, attacks, titles, Reproduce.PICTURES,
                "Influence of eps on the pictures, " + AdversarialGrid.title(base) + ": predicted class and probability; δ = x_adv - x, magnified");
        Reproduce.Pictures result = new Reproduce.Pictures(pictures, plan.gridEps());
        for (ReproductionReport.PictureStats s : ReproductionReport.pictureStats(result)) {
            log.printf(Locale.ROOT, "   eps=%s: PSNR %.1f dB, largest change %.1f of 255 levels, %d of the %d pictures classified correctly are fooled%n",
                    Plan.fmt(s.eps()), s.psnr(), s.levels(), s.fooled(), s.right());
        }
        return result;
    }

    /**
     * The test images of the picture figures: the first of each class that the naive model classifies
     * correctly (an attack can only fool a model that was right), then other images if too few are.
     */
    int[] pickPictures(Net net, Dataset attacked) {
        RobustnessEvaluator.Predictions clean;
        try (RobustnessEvaluator evaluator = Reproduce.attackEvaluator(backend, net, attacked)) {
            clean = evaluator.clean();
        }
        List<Integer> picked = new ArrayList<>();
        boolean[] seen = new boolean[Net.CLASSES];
        for (int i = 0; i < attacked.size() && picked.size() < plan.gridImages(); i++) {
            if (clean.predicted()[i] == clean.labels()[i] && !seen[clean.labels()[i]]) {
                seen[clean.labels()[i]] = true;
                picked.add(i);
            }
        }
        for (int i : AdversarialGrid.pickDistinctClasses(attacked, plan.gridImages())) {
            if (picked.size() < plan.gridImages() && !picked.contains(i)) picked.add(i);
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Draws a picture figure (AdversarialGrid) and writes its CSV: one row per picture and attack. */
    List<Reproduce.Picture> pictureFigure(Net net, Dataset test, int[] picked, List<AttackConfig> attacks, List<String> titles,
                                          String name, String title) throws IOException {
        int n = picked.length, size = Dataset.IMAGE_BYTES;
        float[] images = new float[n * size];
        int[] labels = new int[n];
        float[] labelValues = new float[n];
        for (int i = 0; i < n; i++) {
            test.copyImage(picked[i], images, i * size);
            labels[i] = test.label(picked[i]);
            labelValues[i] = labels[i];
        }
        ImageGrid.write(out.resolve(name + ".png"), AdversarialGrid.png(backend, net, attacks, titles, title, images, labels));

        // The same attacks again for the numbers (no random start: the same pictures as in the figure).
        List<Reproduce.Picture> pictures = new ArrayList<>();
        Csv csv = new Csv("column", "attack", "eps", "steps", "step_size", "test_image", "label", "clean_predicted", "predicted",
                "probability", "linf", "linf_levels", "mean_abs", "psnr_db");
        Tensor x = Tensors.fromArray(backend, images, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH);
        Tensor y = Tensors.fromArray(backend, labelValues, n);
        try {
            int[] cleanPredicted = argmax(probabilities(net, x));
            for (int a = 0; a < attacks.size(); a++) {
                AttackConfig config = attacks.get(a);
                float[] adversarial, probabilities;
                try (Attack attack = Attack.create(backend, config)) {
                    Tensor result = attack.perturb(net, x, y);
                    adversarial = Tensors.toArray(backend, result);
                    probabilities = probabilities(net, result);
                }
                for (int i = 0; i < n; i++) {
                    double linf = 0, sumAbs = 0, sumSquares = 0;
                    for (int k = 0; k < size; k++) {
                        double d = adversarial[i * size + k] - images[i * size + k];
                        linf = Math.max(linf, Math.abs(d));
                        sumAbs += Math.abs(d);
                        sumSquares += d * d;
                    }
                    int best = argmax(probabilities)[i];
                    double psnr = sumSquares == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(size / sumSquares);
                    Reproduce.Picture p = new Reproduce.Picture(titles.get(a), config, picked[i], labels[i], cleanPredicted[i], best,
                            probabilities[i * Net.CLASSES + best], linf, sumAbs / size, psnr);
                    pictures.add(p);
                    csv.row(p.column(), config.kind().label(), config.eps(), config.steps(), config.alpha(), p.image(),
                            Cifar10.CLASSES.get(p.label()), Cifar10.CLASSES.get(p.cleanPredicted()), Cifar10.CLASSES.get(p.predicted()),
                            p.probability(), p.linf(), 255 * p.linf(), p.meanAbs(), p.psnr());
                }
            }
        } finally {
            backend.release(x);
            backend.release(y);
        }
        csv.write(out.resolve(name + ".csv"));
        return pictures;
    }

    /** The most probable class of each row of [n, classes] probabilities. */
    private static int[] argmax(float[] probabilities) {
        int[] best = new int[probabilities.length / Net.CLASSES];
        for (int i = 0; i < best.length; i++) {
            for (int c = 1; c < Net.CLASSES; c++) if (probabilities[i * Net.CLASSES + c] > probabilities[i * Net.CLASSES + best[i]]) best[i] = c;
        }
        return best;
    }

    private float[] probabilities(Module model, Tensor images) {
        float[] logProbs;
        try (Tape tape = new Tape(backend); Tape.NoGrad off = tape.noGrad()) {
            logProbs = Tensors.toArray(backend, model.forward(tape.input(images, false)).data());
        }
        for (int i = 0; i < logProbs.length; i++) logProbs[i] = (float) Math.exp(logProbs[i]);
        return logProbs;
    }
}
