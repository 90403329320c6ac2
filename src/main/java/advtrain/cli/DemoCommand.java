package advtrain.cli;

import advtrain.data.DataLocator;
import advtrain.data.Download;
import advtrain.experiments.Plan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = PlanOptions.DemoHelp.class,
        description = {"The first run on a fresh machine: finds CIFAR-10 (downloading it into data/ when it is nowhere), then runs "
                + "`reproduce --quick`: trains the seed's network, attacks it with FGSM and PGD, trains it adversarially, and writes "
                + "a report folder. Works without OpenCL (the Java backend)."})
final class DemoCommand implements Callable<Integer> {
    static final String DEFAULT_OUT = "reports/demo";

    @Option(names = "--out", paramLabel = "DIR", description = "the report folder (default: " + DEFAULT_OUT + " in the project)")
    Path out;

    @Option(names = "--url", paramLabel = "URL",
            description = "where to download CIFAR-10 from when it is missing (default: $" + DownloadCommand.URL_ENV + ", else " + Download.OFFICIAL_URL + ")")
    String url;

    @Mixin PlanOptions planOptions;
    @Mixin FigureOptions figureOptions;
    @Mixin DataOptions dataOptions;
    @Mixin CommonOptions common;

    @Override public Integer call() throws Exception {
        Plan plan = planOptions.apply(Plan.quick(), dataOptions).withSeed(common.seed);
        Path report = out != null ? out : DataLocator.projectRoot().resolve(DEFAULT_OUT);
        ReproduceCommand.checkOut(report);
        Path data = findOrDownload();
        System.out.println("demo: CIFAR-10 in " + data + "; running `reproduce --quick --out " + report + "`");
        return ReproduceCommand.run(plan, figureOptions.style(), data, report, common);
    }

    /** The data as every command finds it; when it is nowhere, the download into --data or data/. */
    private Path findOrDownload() throws IOException {
        Path found = DataLocator.find(dataOptions.data);
        if (found != null) return found;
        Path target = dataOptions.data != null ? dataOptions.data : DataLocator.projectRoot().resolve("data");
        URI source = source();
        System.out.println("demo: CIFAR-10 not found (looked in " + DataLocator.candidates(dataOptions.data) + "); downloading it from "
                + source + " into " + Download.target(target) + " (about 163 MB)");
        try {
            new Download(Download.OFFICIAL_MD5, false, System.out).fetch(source, target, false);
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IOException("CIFAR-10 is not here and the download failed (" + reason + "). Without internet access: fetch "
                    + Download.OFFICIAL_URL + " elsewhere and install it with `./advtrain download --archive FILE`, or point --data "
                    + "(or $ADVTRAIN_DATA) at a folder holding data_batch_1..5.bin and test_batch.bin", e);
        }
        return DataLocator.require(dataOptions.data);
    }

    private URI source() {
        String env = System.getenv(DownloadCommand.URL_ENV);
        String text = url != null ? url : env != null && !env.isBlank() ? env : Download.OFFICIAL_URL;
        try {
            return new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new Main.UsageError("--url '" + text + "' is not a valid address (" + e.getReason() + ")");
        }
    }
}
