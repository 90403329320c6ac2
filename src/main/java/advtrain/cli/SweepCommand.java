package advtrain.cli;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.io.AtomicFiles;
import advtrain.io.FolderLock;
import advtrain.io.Json;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.report.AccuracyPlot;
import advtrain.stats.Stats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Accuracy against eps for several attacks (the seed's \"influence of eps on accuracy\" figure).",
                "Writes OUT/accuracy_vs_eps.csv and OUT/accuracy_vs_eps.png (a line per attack, clean accuracy dashed; with --format svg or pdf also that file).",
                "The CSV gives each accuracy's 95 %% Wilson score interval and the robust accuracy per class."})
final class SweepCommand implements Callable<Integer> {
    static final String NAME = "accuracy_vs_eps", CSV = NAME + ".csv", PNG = NAME + ".png";

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "a model file (model.safetensors, PyTorch state_dict names); its metadata names the network (--arch of train), none: the seed's")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder for the CSV and the PNG (created if needed)")
    Path out;

    @Option(names = "--attacks", paramLabel = "LIST", defaultValue = "fgsm,pgd",
            description = "attacks to run, any of fgsm, pgd, apgd-ce, apgd-dlr, apgd-t, square, autoattack (see attack --help; default: ${DEFAULT-VALUE})")
    String attacks;

    @Option(names = "--eps", paramLabel = "LIST", defaultValue = "0,0.002,0.005,0.01,0.02,0.03,0.05,0.1",
            description = "eps values, numbers or fractions such as 8/255 (default: ${DEFAULT-VALUE})")
    String epsList;

    @Mixin AttackOptions attackOptions;
    @Mixin FigureOptions figureOptions;
    @Mixin TestDataOptions dataOptions;
    @Mixin CommonOptions common;

    @Override public Integer call() throws Exception {
        List<AttackConfig.Kind> kinds = new ArrayList<>();
        for (String name : attacks.split(",")) {
            AttackConfig.Kind kind = AttackCommand.parseKind(name);
            if (!kinds.contains(kind)) kinds.add(kind);
        }
        float[] epsValues = AttackOptions.parseEpsList("--eps", epsList);
        AccuracyPlot.Style style = figureOptions.style();
        List<AttackConfig> configs = new ArrayList<>();
        for (AttackConfig.Kind kind : kinds) {
            for (float eps : epsValues) configs.add(attackOptions.config(kind, eps, common.seed));
        }
        AttackCommand.requireModelFile(model);
        Path csv = out.resolve(CSV), png = out.resolve(PNG);
        OutputPaths.requireFolder(out, "--out");
        OutputPaths.requireWritableFile(csv, "--out");
        OutputPaths.requireWritableFile(png, "--out");
        Dataset test = dataOptions.testSet();
        Backends.Choice choice = common.selectBackend();
        List<AttackResult> results = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        double cleanAccuracy;
        try (FolderLock lock = FolderLock.acquire(out, "--out", "sweep");
             Backend backend = choice.backend()) {
            Module net = AttackCommand.loadModel(backend, model);
            try (RobustnessEvaluator evaluator = new RobustnessEvaluator(backend, net, test, attackOptions.batch, Net.CLASSES, false)) {
                cleanAccuracy = (double) evaluator.clean().correct() / test.size();
                for (AttackConfig config : configs) {
                    AttackResult r = evaluator.run(config);
                    results.add(r);
                }
            }
            for (AttackResult r : results) for (String w : r.warnings()) if (!warnings.contains(w)) warnings.add(w);
            for (AttackResult pgd : results) {
                if (pgd.config().kind() != AttackConfig.Kind.PGD) continue;
                for (AttackResult fgsm : results) {
                    if (fgsm.config().kind() == AttackConfig.Kind.FGSM && fgsm.config().eps() == pgd.config().eps()) {
                        warnings.addAll(RobustnessEvaluator.compareWithFgsm(pgd, fgsm));
                    }
                }
            }

            AtomicFiles.writeString(csv, csv(results));
            Path figure = AccuracyPlot.write(out, NAME, String.format(Locale.ROOT, "Accuracy against ε (%,d CIFAR-10 test images)", test.size()),
                    "ε (" + configs.get(0).norm().symbol() + ", pixel units)", series(kinds, results, cleanAccuracy, epsValues),
                    style.epsScale(), style.format());

            System.out.printf(Locale.ROOT, "clean accuracy: %.2f %% on %d test images (backend %s)%n", 100 * cleanAccuracy, test.size(), backend.name());
            System.out.printf(Locale.ROOT, "%-10s %8s %10s %16s %10s %9s%n", "attack", "eps", "robust %", "95 % CI", "success %", "images/s");
            for (AttackResult r : results) {
                System.out.printf(Locale.ROOT, "%-10s %8s %10.2f %16s %10.2f %9.0f%n", r.config().kind().label(), fmt(r.config().eps()),
                        100 * r.robustAccuracy(), r.robustInterval().percent(), 100 * r.successRate(), r.imagesPerSecond());
            }
            System.out.println("wrote " + csv + " and " + png + (figure.equals(png) ? "" : " and " + figure));
            for (String w : warnings) System.err.println("warning: " + w);
            if (common.json) {
                Map<String, Object> json = new LinkedHashMap<>();
                List<Map<String, Object>> rows = new ArrayList<>();
                for (AttackResult r : results) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("attack", r.config().kind().label());
                    row.put("eps", r.config().eps());
                    row.put("robust_accuracy", r.robustAccuracy());
                    row.put("robust_accuracy_ci95", r.robustInterval().toArray());
                    row.put("success_rate", r.successRate());
                    row.put("robust_loss", r.robustLoss());
                    row.put("seconds", r.seconds());
                    row.put("images_per_second", r.imagesPerSecond());
                    rows.add(row);
                }
                json.put("rows", rows);
                json.put("csv", csv.toString());
                json.put("png", png.toString());
                json.put("figure", figure.toString());
                json.put("clean_accuracy", cleanAccuracy);
                json.put("n", test.size());
                json.put("norm", configs.get(0).norm().label());
                json.put("steps", configs.get(configs.size() - 1).steps());
                json.put("backend", backend.name());
                json.put("warnings", warnings);
                System.out.println(Json.write(json));
            }
        }
        return 0;
    }

    private static List<AccuracyPlot.Series> series(List<AttackConfig.Kind> kinds, List<AttackResult> results,
                                                    double cleanAccuracy, float[] epsValues) {
        List<AccuracyPlot.Series> list = new ArrayList<>();
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (float e : epsValues) { lo = Math.min(lo, e); hi = Math.max(hi, e); }
        for (AttackConfig.Kind kind : kinds) {
            List<AttackResult> mine = new ArrayList<>();
            for (AttackResult r : results) if (r.config().kind() == kind) mine.add(r);
            mine.sort((a, b) -> Float.compare(a.config().eps(), b.config().eps()));
            double[] xs = new double[mine.size()], ys = new double[mine.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = mine.get(i).config().eps();
                ys[i] = mine.get(i).robustAccuracy();
            }
            AttackConfig c = mine.get(0).config();
            String label = kind == AttackConfig.Kind.PGD ? "PGD-" + c.steps() + (c.randomStart() ? " random start" : "")
                    : kind == AttackConfig.Kind.AUTOATTACK ? "AutoAttack (no FAB-T)" : mine.get(0).attackName();
            list.add(AccuracyPlot.Series.data(label + (c.targeted() ? " (targeted)" : ""), xs, ys));
        }
        list.add(AccuracyPlot.Series.reference("clean", cleanAccuracy, lo, hi == lo ? lo + 1e-3 : hi));
        return list;
    }

    private static String csv(List<AttackResult> results) {
        StringBuilder s = new StringBuilder("attack,norm,eps,steps,step_size,random_start,restarts,targeted,n,clean_accuracy,"
                + "clean_ci95_low,clean_ci95_high,robust_accuracy,robust_ci95_low,robust_ci95_high,success_rate,clean_loss,robust_loss,"
                + "seconds,images_per_second");
        for (String name : Cifar10.CLASSES) s.append(",robust_").append(name);
        s.append('\n');
        for (AttackResult r : results) {
            AttackConfig c = r.config();
            Stats.Interval clean = r.cleanInterval(), robust = r.robustInterval();
            s.append(String.join(",", c.kind().label(), c.norm().label(), fmt(c.eps()), Integer.toString(c.steps()),
                    fmt(c.alpha()), Boolean.toString(c.randomStart()), Integer.toString(c.restarts()), Boolean.toString(c.targeted()),
                    Integer.toString(r.n()), num(r.cleanAccuracy()), num(clean.low()), num(clean.high()), num(r.robustAccuracy()),
                    num(robust.low()), num(robust.high()), num(r.successRate()),
                    num(r.cleanLoss()), num(r.robustLoss()), num(r.seconds()), num(r.imagesPerSecond())));
            for (int k = 0; k < Cifar10.CLASSES.size(); k++) {
                s.append(',').append(k < r.perClassTotal().length && r.perClassTotal()[k] > 0
                        ? num((double) r.perClassRobust()[k] / r.perClassTotal()[k]) : "");
            }
            s.append('\n');
        }
        return s.toString();
    }

    private static String num(double v) { return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : ""; }

    private static String fmt(float v) {
        String s = String.format(Locale.ROOT, "%.6g", v);
        return s.contains(".") && !s.contains("e") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
