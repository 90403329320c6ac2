package advtrain.backend;

import advtrain.backend.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Chooses the backend once per process, from --backend auto|java|opencl. */
public final class Backends {
    private Backends() {}

    /** The chosen backend and one line saying why it was chosen. */
    public record Choice(Backend backend, String reason) {}

    /** Thrown when the requested backend cannot run here; the message says why and what to do. */
    public static final class UnavailableException extends RuntimeException {
        public UnavailableException(String message) { super(message); }
    }

    public static final List<String> NAMES = List.of("auto", "java", "opencl");

    /**
     * @param name   auto, java or opencl
     * @param device the OpenCL device index (null: the first GPU, else the first device)
     */
    public static Choice select(String name, Integer device) {
        switch (name) {
            case "java":
                return new Choice(new CpuBackend(), "java backend (asked for with --backend java)");
            case "opencl":
                throw new UnavailableException("the OpenCL backend is not built into this version; use --backend java");
            case "auto":
                return new Choice(new CpuBackend(), "auto chose java: no OpenCL backend in this version");
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "': use one of auto, java, opencl");
        }
    }

    /** One entry per backend for `advtrain devices`: name, available, device, reason. */
    public static List<Map<String, Object>> describe() {
        List<Map<String, Object>> list = new ArrayList<>();
        Map<String, Object> java = new LinkedHashMap<>();
        java.put("name", "java");
        java.put("available", true);
        java.put("device", new CpuBackend().deviceName());
        java.put("reason", "always available");
        list.add(java);
        Map<String, Object> opencl = new LinkedHashMap<>();
        opencl.put("name", "opencl");
        opencl.put("available", false);
        opencl.put("device", null);
        opencl.put("reason", "not built into this version");
        list.add(opencl);
        return list;
    }
}
