package advtrain.bench.gpu;

import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.io.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenCL device a run will use and how the backend runs on it, as one JSON line: the device
 * (--backend opencl takes the first GPU, else the first device, or $ADVTRAIN_DEVICE), the kernel
 * variant in use, and the multiply-add self-check that decides whether the elementwise kernels can
 * match the Java backend bit for bit. benchmarks/gpu/run.sh prints it before anything else runs.
 */
public final class DeviceInfo {
    public static void main(String[] args) {
        String index = System.getenv("ADVTRAIN_DEVICE");
        Map<String, Object> out = new LinkedHashMap<>();
        OpenCl.Device device;
        try {
            device = OpenCl.device(index == null || index.isBlank() ? null : Integer.valueOf(index.trim()));
        } catch (RuntimeException e) {  // no OpenCL here: say why, as the last line
            out.put("error", e.getMessage());
            System.out.println(Json.write(out));
            System.exit(1);
            return;
        }
        out.put("device", device.name());
        out.put("type", device.type());
        out.put("platform", device.platform() + " (" + device.platformVersion() + ")");
        out.put("driver", device.driverVersion());
        out.put("compute_units", device.computeUnits());
        out.put("global_memory_mib", device.globalMemoryBytes() >> 20);
        long start = System.nanoTime();
        try (OpenClBackend backend = new OpenClBackend(device)) {
            out.put("build_seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            out.put("kernels", backend.kernelsInUse());
            out.put("multiply_add", backend.multiplyAdd());
        }
        System.out.println(Json.write(out));
    }
}
