package advtrain.bench.opencl;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;

/**
 * Runs the OpenCL benchmarks through JMH and prints one table: microseconds per call and GFLOP/s for
 * the kernels, images per second for the training step, with the machine's load average before and
 * after (other processes on the machine slow every figure down). Arguments: a regular expression
 * choosing benchmarks (default: all of this package), then JMH parameters as name=v1,v2.
 *
 * <pre>
 * mvn -B -q -o test-compile
 * java -cp target/test-classes:target/classes:$(cat cp.txt) advtrain.bench.opencl.Report [REGEX] [layer=conv1,conv2]
 * </pre>
 */
public final class Report {
    public static void main(String[] args) throws Exception {
        String include = args.length > 0 ? args[0] : "advtrain\\.bench\\.opencl\\..*";
        ChainedOptionsBuilder options = new OptionsBuilder().include(include);
        for (int i = 1; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            options.param(kv[0], kv[1].split(","));
        }
        String loadBefore = load();
        Collection<RunResult> results = new Runner(options.build()).run();
        String loadAfter = load();

        System.out.println();
        System.out.printf("%-26s %-10s %-13s %12s %10s%n", "benchmark", "shape", "backend", "time", "rate");
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark().replaceAll(".*\\.", "");
            String layer = r.getParams().getParam("layer");
            String backend = r.getParams().getParam("backend");
            double score = r.getPrimaryResult().getScore();
            String unit = r.getPrimaryResult().getScoreUnit();
            String rate;
            if (name.equals("step")) {
                double seconds = unit.startsWith("ms") ? score / 1e3 : score / 1e6;
                rate = String.format(Locale.ROOT, "%.0f img/s", TrainingStepBenchmark.BATCH / seconds);
                layer = "net b32";
            } else {
                double flops = name.startsWith("conv") ? KernelBenchmark.Conv.flops(layer) : KernelBenchmark.Gemm.flops(layer);
                double seconds = unit.startsWith("us") ? score / 1e6 : score / 1e3;
                rate = String.format(Locale.ROOT, "%.2f GFLOP/s", flops / seconds / 1e9);
            }
            System.out.printf(Locale.ROOT, "%-26s %-10s %-13s %9.1f %s %s%n", name, layer, backend, score, unit.replace("/op", ""), rate);
        }
        System.out.println("load average before: " + loadBefore + "; after: " + loadAfter
                + "; cores: " + Runtime.getRuntime().availableProcessors());
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }
}
