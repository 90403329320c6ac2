package advtrain.cli;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Dataset;
import advtrain.io.InputFiles;
import advtrain.io.Json;
import advtrain.nn.Architectures;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.report.AdversarialGrid;
import advtrain.report.ImageGrid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Robust accuracy of a model under one attack on the CIFAR-10 test set.",
                "robust_accuracy counts over all test images (one misclassified before the attack is not robust); "
                        + "success_rate over the images classified correctly before it. Every accuracy comes with its "
                        + "95 %% Wilson score interval.",
                "",
                "Attacks (all in [0,1] pixel space, within eps of the image):",
                "  fgsm        one step of eps along the gradient's sign (Goodfellow et al., ICLR 2015; the seed's Eq. 1)",
                "  pgd         --steps 10 of --step-size eps/4, projected (Madry et al., ICLR 2018; the seed's Eq. 2)",
                "  apgd-ce     Auto-PGD on the cross-entropy, 100 iterations, step 2*eps halved at checkpoints, momentum 0.75",
                "              (Croce & Hein, ICML 2020: \"Reliable evaluation of adversarial robustness with an ensemble",
                "              of diverse parameter-free attacks\"); linf or l2",
                "  apgd-dlr    Auto-PGD on the difference-of-logits-ratio loss (same paper)",
                "  apgd-t      Auto-PGD on the targeted DLR loss toward each of the 9 most likely other classes in turn,",
                "              100 iterations each, on the images still robust (same paper)",
                "  square      Square attack, linf, score-based black-box: model outputs only, no gradient; --queries 5000,",
                "              p_init 0.8, vertical-stripe start (Andriushchenko et al., ECCV 2020)",
                "  autoattack  APGD-CE, then APGD-T, then Square, each on the images still robust (AutoAttack's standard",
                "              version, Croce & Hein 2020) WITHOUT FAB-T, which is not implemented; with --norm l2 no Square",
                "",
                "--source-model A crafts the attack on model A and evaluates it on --model (the transfer, black-box setting)."})
final class AttackCommand implements Callable<Integer> {
    static final String DEFAULT_GRID_EPS = "0.005,0.01,0.02,0.03,0.05,0.1";

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "a model file (model.safetensors, PyTorch state_dict names); its metadata names the network (--arch of train), none: the seed's")
    Path model;

    @Option(names = "--attack", paramLabel = "NAME", defaultValue = "pgd",
            description = "fgsm, pgd, apgd-ce, apgd-dlr, apgd-t, square or autoattack (default: ${DEFAULT-VALUE})")
    String attack;

    @Option(names = "--source-model", paramLabel = "FILE", description = "transfer attack: craft the adversarial images on this model, evaluate them on --model")
    Path sourceModel;

    @Option(names = "--eps", paramLabel = "E", defaultValue = "8/255", description = "radius of the perturbation in pixel units, a number or a fraction (default: ${DEFAULT-VALUE})")
    String eps;

    @Mixin AttackOptions attackOptions;

    @Option(names = "--save-grid", paramLabel = "FILE.png", description = "also draw a few test images, clean and attacked at each --grid-eps, with predictions and magnified perturbations")
    Path saveGrid;

    @Option(names = "--grid-eps", paramLabel = "LIST", defaultValue = DEFAULT_GRID_EPS, description = "the eps columns of --save-grid (default: ${DEFAULT-VALUE})")
    String gridEps;

    @Option(names = "--grid-rows", paramLabel = "N", defaultValue = "5", description = "test images in --save-grid, of different classes (default: ${DEFAULT-VALUE})")
    int gridRows;

    @Mixin TestDataOptions dataOptions;
    @Mixin CommonOptions common;

    @Override public Integer call() throws Exception {
        AttackConfig.Kind kind = parseKind(attack);
        AttackConfig config = attackOptions.config(kind, AttackOptions.parseEps("--eps", eps), common.seed);
        float[] gridEpsList = saveGrid == null ? null : AttackOptions.parseEpsList("--grid-eps", gridEps);
        if (gridEpsList != null && config.norm() == advtrain.attack.Norm.LINF) {
            for (float e : gridEpsList) AttackOptions.checkPixelEps("--grid-eps", e);
        }
        if (saveGrid != null && (gridRows < 1 || gridRows > 10)) throw new Main.UsageError("--grid-rows must be in 1..10, got " + gridRows);
        if (kind == AttackConfig.Kind.FGSM && !attackOptions.pgdOnlyGiven().isEmpty()) {
            System.err.println("note: " + String.join(", ", attackOptions.pgdOnlyGiven()) + " apply to PGD only; FGSM ignores them");
        }
        requireModelFile(model);
        if (saveGrid != null) OutputPaths.requireWritableFile(saveGrid, "--save-grid");
        if (sourceModel != null) requireModelFile(sourceModel);
        Dataset test = dataOptions.testSet();
        Backends.Choice choice = common.selectBackend();
        try (Backend backend = choice.backend()) {
            Module net = loadModel(backend, model);
            Module source = sourceModel == null ? net : loadModel(backend, sourceModel);
            AttackResult result;
            try (RobustnessEvaluator evaluator = new RobustnessEvaluator(backend, net, test, attackOptions.batch, Net.CLASSES, false)) {
                if (common.json) evaluator.setLog(System.err::println);
                boolean checkAgainstFgsm = kind == AttackConfig.Kind.PGD && config.eps() > 0 && sourceModel == null;
                result = attackAndCheck(backend, evaluator, config, attackOptions.batch, source, checkAgainstFgsm);
            }
            for (String line : result.textLines()) System.out.println(line);
            for (String warning : result.warnings()) System.err.println("warning: " + warning);
            Map<String, Object> json = result.toJson();
            json.put("backend", backend.name());
            json.put("model", model.toString());
            if (sourceModel != null) {
                json.put("source_model", sourceModel.toString());
                System.out.println("transfer:        crafted on " + sourceModel + ", evaluated on " + model);
            }
            if (saveGrid != null) {
                writeGrid(backend, net, config, gridEpsList, test);
                System.out.println("grid:            " + saveGrid);
                json.put("grid", saveGrid.toString());
            }
            if (common.json) System.out.println(Json.write(json));
        }
        return 0;
    }

    /**
     * The attack's pass over the test set and, when asked, PGD's sanity check: FGSM at the same ε
     * (same norm and target), a tenth of PGD-10's cost. The attack is closed before FGSM is made:
     * each keeps a tape whose pool holds the activations and gradients of every batch shape it saw
     * (two when the last batch is short), and the two attacks' pools together ran a ResNet-20 on
     * 500 test images out of a 5 GB heap.
     */
    static AttackResult attackAndCheck(Backend backend, RobustnessEvaluator evaluator, AttackConfig config, int batch,
                                       Module source, boolean checkAgainstFgsm) {
        AttackResult result;
        try (Attack attack = Attack.create(backend, config, batch)) {
            result = attack.batchByBatch() ? attackEachBatch(evaluator, attack, source) : evaluator.run(attack, source);
        }
        if (!checkAgainstFgsm) return result;
        AttackResult fgsm = evaluator.run(config.asFgsm());
        return result.withWarnings(RobustnessEvaluator.compareWithFgsm(result, fgsm));
    }

    /**
     * FGSM and PGD, batch by batch: the evaluator puts each batch of test images on the device,
     * the attack perturbs it on the source model, and the evaluator counts what the evaluated model
     * makes of the result.
     */
    private static AttackResult attackEachBatch(RobustnessEvaluator evaluator, Attack attack, Module source) {
        try (RobustnessEvaluator.Pass pass = evaluator.pass(attack)) {
            while (pass.hasNext()) {
                RobustnessEvaluator.Batch batch = pass.next();
                pass.count(attack.perturb(source, batch.images(), batch.labels()));
            }
            return pass.result();
        }
    }

    private void writeGrid(Backend backend, Module net, AttackConfig config, float[] epsList, Dataset test) throws IOException {
        int[] picked = AdversarialGrid.pickDistinctClasses(test, gridRows);
        float[] images = new float[picked.length * Dataset.IMAGE_BYTES];
        int[] labels = new int[picked.length];
        for (int i = 0; i < picked.length; i++) {
            test.copyImage(picked[i], images, i * Dataset.IMAGE_BYTES);
            labels[i] = test.label(picked[i]);
        }
        ImageGrid.write(saveGrid, AdversarialGrid.png(backend, net, config, epsList, images, labels));
    }

    static AttackConfig.Kind parseKind(String text) {
        try {
            return AttackConfig.Kind.parse(text);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--attack: " + e.getMessage());
        }
    }

    /** A missing model file is a runtime failure (exit 1) with a hint, not a stack trace. */
    static void requireModelFile(Path file) throws IOException {
        InputFiles.requireRegularFile(file, "--model", "train one with `./advtrain train --out RUN`, then use RUN/model.safetensors");
    }

    /**
     * The network this file names (its metadata's "arch"; the seed's Net when it names none) with
     * the file's weights, in evaluation mode (batch norm uses its running statistics); a broken or
     * foreign file fails with exit status 1.
     */
    static Module loadModel(Backend backend, Path file) throws IOException {
        Module net;
        try {
            net = Architectures.load(backend, file);
        } catch (RuntimeException e) {  // anything odd in a hostile file is a bad file, never a usage error
            throw new IOException("cannot load model " + file + ": " + e.getMessage(), e);
        }
        net.eval();
        return net;
    }
}
