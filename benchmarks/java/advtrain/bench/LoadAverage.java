package advtrain.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's 1/5/15-minute load averages (Linux /proc/loadavg), to print beside any timing. */
final class LoadAverage {
    private LoadAverage() {}

    static String now() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2] + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
        } catch (Exception e) {
            return "unknown";
        }
    }
}
