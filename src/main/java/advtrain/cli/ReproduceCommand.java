package advtrain.cli;

import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Cifar10;
import advtrain.experiments.Plan;
import advtrain.experiments.ReproductionReport;
import advtrain.experiments.Reproduce;
import advtrain.io.FolderLock;
import advtrain.io.Json;
import advtrain.report.AccuracyPlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "reproduce", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = PlanOptions.ReproduceHelp.class,
        description = {"Run the seed's experiments and write every figure (PNG and CSV) and OUT/report.md: 1. the naive classifier, "
                + "2. pictures under PGD at growing eps, 3. accuracy against eps for FGSM and PGD, 4. the necessary condition "
                + "alpha*steps >= eps, 5. adversarial training (Eq. 3, alpha = 0.5) against PGD.",
                "The full run is the seed's recipe (20 epochs on 50,000 images per model, every attack on all 10,000 test images; it "
                        + "says its estimated duration up front); --quick runs it all on subsets (AutoAttack on 100 images) in minutes. Models are kept in OUT/models and reused when their settings match, so a rerun does not retrain."})
final class ReproduceCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the report folder (created if needed)")
    Path out;

    @Option(names = "--quick", description = "every experiment on subsets with few epochs (a few minutes)")
    boolean quick;

    @Mixin PlanOptions planOptions;
    @Mixin FigureOptions figureOptions;
    @Mixin DataOptions dataOptions;
    @Mixin CommonOptions common;

    @Override public Integer call() throws Exception {
        Plan plan = planOptions.apply(quick ? Plan.quick() : Plan.full(), dataOptions).withSeed(common.seed);
        checkOut(out);
        Path data = dataOptions.folder();
        return run(plan, figureOptions.style(), data, out, common);
    }

    static void checkOut(Path out) {
        OutputPaths.requireFolder(out, "--out");
    }

    /** Runs the plan and prints the figures, the report's path, and with --json the JSON object. */
    static int run(Plan plan, AccuracyPlot.Style style, Path data, Path out, CommonOptions common) throws Exception {
        plan = plan.fitTo(Cifar10.trainSize(data), Cifar10.testSize(data));
        Backends.Choice choice = common.selectBackend();
        try (FolderLock lock = FolderLock.acquire(out, "--out", "reproduce");
             Backend backend = choice.backend()) {
            Reproduce.Result result = new Reproduce(backend, plan, style, data, out, System.out, false).run();
            List<ReproductionReport.Claim> claims = ReproductionReport.claims(result.findings());
            System.out.println();
            for (ReproductionReport.Claim c : claims) System.out.println("claim " + c.experiment() + " (" + c.seed() + "): " + c.verdict().text());
            System.out.println("figures: " + out);
            System.out.println("report:  " + result.report());
            if (common.json) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("figures", strings(result.figures()));
                json.put("csv", strings(result.csvs()));
                json.put("report", result.report().toString());
                json.put("plan", plan.toJson());
                json.put("seconds", result.findings().seconds());
                json.put("estimated_seconds", result.findings().estimatedSeconds());
                json.put("backend", backend.name());
                List<Map<String, Object>> rows = new ArrayList<>();
                for (ReproductionReport.Claim c : claims) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("experiment", c.experiment());
                    row.put("seed", c.seed());
                    row.put("measured", c.measured());
                    row.put("verdict", c.verdict().text());
                    rows.add(row);
                }
                json.put("claims", rows);
                System.out.println(Json.write(json));
            }
        }
        return 0;
    }

    private static List<String> strings(List<Path> paths) {
        List<String> list = new ArrayList<>();
        for (Path p : paths) list.add(p.toString());
        return list;
    }
}
