package advtrain.cli;

import advtrain.backend.select.Backends;
import advtrain.backend.select.StepTimer;
import advtrain.io.Json;
import advtrain.train.TrainConfig;
import advtrain.train.WarmUp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the backends and OpenCL platforms and devices, and which one --backend auto picks and why.")
final class DevicesCommand implements Runnable {
    @Mixin CommonOptions common;

    @Override public void run() {
        Integer device = common.device;
        String fromEnvironment = System.getenv("ADVTRAIN_DEVICE");
        if (device == null && fromEnvironment != null && !fromEnvironment.isBlank()) {
            try {
                device = Integer.parseInt(fromEnvironment.trim());
            } catch (NumberFormatException e) {
                throw new Main.UsageError("ADVTRAIN_DEVICE must be a device index, got '" + fromEnvironment + "'");
            }
        }
        List<Map<String, Object>> backends = Backends.describe();
        List<Map<String, Object>> devices = Backends.describeDevices();
        StepTimer timer = WarmUp.stepTimer(TrainConfig.BATCH);
        String auto = Backends.autoName(device, timer, true);  // an undecided comparison is measured again, longer
        String autoReason = Backends.autoReason(device, timer, true);

        List<Map<String, Object>> loader = Backends.describeOpenClLoader();
        System.out.println("OpenCL loader (what the opencl backend needs before any device shows up):");
        for (Map<String, Object> f : loader) {
            System.out.println("  " + f.get("what") + ": " + (Boolean.TRUE.equals(f.get("ok")) ? "" : "MISSING: ") + f.get("detail"));
        }
        System.out.println("OpenCL devices (--device N):");
        if (devices.isEmpty()) System.out.println("  none");
        Object platform = null;
        for (Map<String, Object> d : devices) {
            if (!d.get("platform").equals(platform)) {
                platform = d.get("platform");
                System.out.println("  platform " + platform + " (" + d.get("platform_version") + ")");
            }
            System.out.printf("    %d: %s [%s, %s compute units, %d MiB, %s, driver %s]%n", (Integer) d.get("index"),
                    d.get("name"), d.get("type"), d.get("compute_units"), ((Long) d.get("global_memory_bytes")) >> 20,
                    d.get("opencl_version"), d.get("driver_version"));
        }
        System.out.println("Backends:");
        for (Map<String, Object> b : backends) {
            System.out.printf("  %-7s %-11s %s%n", b.get("name"),
                    Boolean.TRUE.equals(b.get("available")) ? "available" : "unavailable",
                    b.get("device") != null ? b.get("device") + " (" + b.get("reason") + ")" : b.get("reason"));
        }
        System.out.println("auto picks: " + auto + " (" + autoReason + ")");
        if (common.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("backends", backends);
            out.put("auto", auto);
            out.put("auto_reason", autoReason);
            out.put("devices", devices);
            out.put("opencl_loader", loader);
            System.out.println(Json.write(out));
        }
    }
}
