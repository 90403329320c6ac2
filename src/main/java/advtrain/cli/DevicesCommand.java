package advtrain.cli;

import advtrain.backend.Backends;
import advtrain.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the backends and OpenCL devices, and which one --backend auto picks and why.")
final class DevicesCommand implements Runnable {
    @Mixin CommonOptions common;

    @Override public void run() {
        List<Map<String, Object>> backends = Backends.describe();
        String auto;
        try (var choice = Backends.select("auto", common.device).backend()) {
            auto = choice.name();
        }
        for (Map<String, Object> b : backends) {
            System.out.printf("%-7s %-10s %s%n", b.get("name"),
                    Boolean.TRUE.equals(b.get("available")) ? "available" : "unavailable",
                    b.get("device") != null ? b.get("device") + " (" + b.get("reason") + ")" : b.get("reason"));
        }
        System.out.println("auto picks: " + auto);
        if (common.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("backends", backends);
            out.put("auto", auto);
            System.out.println(Json.write(out));
        }
    }
}
