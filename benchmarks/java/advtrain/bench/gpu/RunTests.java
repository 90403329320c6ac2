package advtrain.bench.gpu;

import advtrain.io.Json;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs test classes without Maven, for machines that have only a Java runtime (benchmarks/gpu/run.sh):
 * the JUnit platform's launcher over the classes or packages named, a line per failed or skipped
 * test, then one JSON line {"tests", "passed", "failed", "skipped", "seconds", "failures"}. A test
 * skipped because its backend is unavailable counts as skipped, not passed. Exit status 0 when
 * nothing failed, 1 otherwise.
 *
 * <pre>usage: RunTests CLASS-OR-PACKAGE...   (a name starting with a lower-case last part is a package)</pre>
 */
public final class RunTests {
    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: RunTests CLASS-OR-PACKAGE...");
            System.exit(2);
        }
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String name : args) {
            String last = name.substring(name.lastIndexOf('.') + 1);
            selectors.add(Character.isUpperCase(last.charAt(0))
                    ? DiscoverySelectors.selectClass(name) : DiscoverySelectors.selectPackage(name));
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        Launcher launcher = LauncherFactory.create();
        int[] counts = new int[3];  // passed, failed, skipped
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        launcher.execute(request, new TestExecutionListener() {
            @Override public void executionSkipped(TestIdentifier test, String reason) {
                if (test.isTest()) counts[2]++;
                System.out.println("SKIPPED " + test.getDisplayName() + ": " + reason);
            }

            @Override public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                String where = test.getUniqueId().replaceAll("\\[engine:[^]]*]/", "");
                switch (result.getStatus()) {
                    case SUCCESSFUL -> { if (test.isTest()) counts[0]++; }
                    case ABORTED -> {
                        if (test.isTest()) counts[2]++;
                        System.out.println("SKIPPED " + where + ": " + message(result));
                    }
                    case FAILED -> {
                        if (test.isTest() || test.isContainer()) counts[1]++;
                        String line = where + ": " + message(result);
                        failures.add(line.length() > 400 ? line.substring(0, 400) + "..." : line);
                        System.out.println("FAILED " + line);
                        result.getThrowable().ifPresent(t -> t.printStackTrace(System.out));
                    }
                }
            }
        });
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("tests", counts[0] + counts[1] + counts[2]);
        summary.put("passed", counts[0]);
        summary.put("failed", counts[1]);
        summary.put("skipped", counts[2]);
        summary.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
        summary.put("failures", failures);
        System.out.println(Json.write(summary));
        System.exit(counts[1] == 0 ? 0 : 1);
    }

    private static String message(TestExecutionResult result) {
        return result.getThrowable().map(t -> {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            return m.replace('\n', ' ');
        }).orElse("");
    }
}
