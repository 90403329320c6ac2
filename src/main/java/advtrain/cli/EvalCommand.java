package advtrain.cli;

import advtrain.backend.Backend;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.io.Json;
import advtrain.nn.Module;
import advtrain.stats.Stats;
import advtrain.train.Evaluation;
import advtrain.train.CleanEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Clean test accuracy of a model file: overall, per class, and the confusion matrix.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "a model file: safetensors with PyTorch state_dict names (RUN/model.safetensors, or saved from PyTorch); "
                    + "its metadata's \"arch\" names the network (--arch of train), none: the seed's")
    Path model;

    @Mixin TestDataOptions dataOptions;
    @Mixin CommonOptions common;

    @Option(names = "--batch", defaultValue = "" + CleanEvaluator.DEFAULT_BATCH, paramLabel = "N",
            description = "images per forward pass (default: ${DEFAULT-VALUE}); the result does not depend on it")
    int batch;

    @Override public Integer call() throws Exception {
        if (batch < 1) throw new Main.UsageError("--batch must be >= 1, got " + batch);
        AttackCommand.requireModelFile(model);
        try (Backend backend = common.selectBackend().backend()) {
            Module net = AttackCommand.loadModel(backend, model);  // a bad model file is reported before the data is looked for
            Path dataDir = dataOptions.folder();
            Dataset test = dataOptions.testSet();
            long start = System.nanoTime();
            Evaluation evaluation;
            try (CleanEvaluator evaluator = new CleanEvaluator(backend, batch)) {
                evaluation = evaluator.evaluate(net, test);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.println("model " + model + " on " + test.size() + " test images from " + dataDir);
            System.out.print(evaluation.report());
            Stats.Interval interval = Stats.wilson(evaluation.correct(), evaluation.n());
            System.out.println("accuracy 95 % CI (Wilson score): " + interval.percent());
            if (common.json) {
                Map<String, Object> perClass = new LinkedHashMap<>();
                double[] accuracy = evaluation.perClassAccuracy();
                for (int c = 0; c < accuracy.length; c++) perClass.put(Cifar10.CLASSES.get(c), accuracy[c]);
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("accuracy", evaluation.accuracy());
                json.put("accuracy_ci95", interval.toArray());
                json.put("n", evaluation.n());
                json.put("correct", evaluation.correct());
                json.put("per_class", perClass);
                json.put("confusion", java.util.Arrays.asList(evaluation.confusion()));
                json.put("loss", evaluation.loss());
                json.put("model", model.toString());
                json.put("backend", backend.name());
                json.put("seconds", seconds);
                System.out.println(Json.write(json));
            }
        }
        return 0;
    }
}
