package advtrain.cli;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Dataset;
import advtrain.io.InputFiles;
import advtrain.io.Json;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import advtrain.report.AdversarialGrid;
import advtrain.report.ImageGrid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Robust accuracy of a model under one attack (FGSM or PGD) on the CIFAR-10 test set.",
                "robust_accuracy counts over all test images (one misclassified before the attack is not robust); "
                        + "success_rate over the images classified correctly before it."})
final class AttackCommand implements Callable<Integer> {
    static final String DEFAULT_GRID_EPS = "0.005,0.01,0.02,0.03,0.05,0.1";

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "model weights (model.safetensors, PyTorch state_dict names)")
    Path model;

    @Option(names = "--attack", paramLabel = "NAME", defaultValue = "pgd", description = "fgsm or pgd (default: ${DEFAULT-VALUE})")
    String attack;

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
        Dataset test = dataOptions.testSet();
        Backends.Choice choice = common.selectBackend();
        try (Backend backend = choice.backend()) {
            Net net = loadModel(backend, model, common.seed);
            AttackResult result;
            try (RobustnessEvaluator evaluator = new RobustnessEvaluator(backend, net, test, attackOptions.batch, Net.CLASSES, false)) {
                result = evaluator.run(config);
                if (kind == AttackConfig.Kind.PGD && config.eps() > 0) {
                    // The sanity check needs FGSM at the same ε (same norm and target): a tenth of PGD-10's cost.
                    AttackResult fgsm = evaluator.run(config.asFgsm());
                    result = result.withWarnings(RobustnessEvaluator.compareWithFgsm(result, fgsm));
                }
            }
            for (String line : result.textLines()) System.out.println(line);
            for (String warning : result.warnings()) System.err.println("warning: " + warning);
            Map<String, Object> json = result.toJson();
            json.put("backend", backend.name());
            json.put("model", model.toString());
            if (saveGrid != null) {
                writeGrid(backend, net, config, gridEpsList, test);
                System.out.println("grid:            " + saveGrid);
                json.put("grid", saveGrid.toString());
            }
            if (common.json) System.out.println(Json.write(json));
        }
        return 0;
    }

    private void writeGrid(Backend backend, Net net, AttackConfig config, float[] epsList, Dataset test) throws IOException {
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

    /** The seed's Net with the weights of this file; a broken or foreign file fails with exit status 1. */
    static Net loadModel(Backend backend, Path file, long seed) throws IOException {
        Net net = new Net(backend, seed);
        try {
            ModelFiles.load(net, backend, file);
        } catch (RuntimeException e) {  // anything odd in a hostile file is a bad file, never a usage error
            throw new IOException("cannot load model " + file + ": " + e.getMessage(), e);
        }
        net.eval();
        return net;
    }
}
