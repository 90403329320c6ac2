package advtrain.backend.select;

import advtrain.backend.Backend;
import advtrain.backend.UnavailableException;
import advtrain.backend.cpu.CpuBackend;
import advtrain.backend.opencl.LoaderCheck;
import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.backend.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the backend once per process, from --backend auto|java|opencl|reference and --device N.
 *
 * <p>auto: an OpenCL GPU if there is one (or the device --device names); with no OpenCL device, Java
 * at once, nothing timed; with only a CPU device (such as PoCL), that device only where a timed
 * training step ran faster there than in the Java backend once Java's JIT was done (measured once per
 * device, driver and kernel version, briefly in a run and for longer by {@code advtrain devices},
 * and cached with how it was decided: see {@link SpeedProbe}); else Java. Every way of having no OpenCL (no library, no driver, no device) makes auto choose Java and
 * makes opencl fail with one line saying what is missing and how to fix it. auto picks reference
 * only in a JVM without the Vector API and without OpenCL, with a warning: it is the plain
 * definition, there to read and to check the others against, and slow.
 */
public final class Backends {
    private Backends() {}

    /**
     * The chosen backend and one line saying why it was chosen; {@code warned}: that line was printed
     * on stderr already, as a warning (auto in a JVM without the Vector API).
     */
    public record Choice(Backend backend, String reason, boolean warned) {
        Choice(Backend backend, String reason) { this(backend, reason, false); }
    }

    public static final List<String> NAMES = List.of("auto", "java", "opencl", "reference");

    /** auto's decision per --device value, made once per process. */
    private static final Map<String, Decision> autoDecisions = new LinkedHashMap<>();

    /** What auto picked: "java", "opencl" (on device) or "reference", and why. */
    private record Decision(String backend, OpenCl.Device device, String reason) {
        static Decision java(String reason) { return new Decision("java", null, reason); }

        static Decision opencl(OpenCl.Device device, String reason) { return new Decision("opencl", device, reason); }
    }

    /**
     * @param name   auto, java, opencl or reference
     * @param device the OpenCL device index in {@code advtrain devices}' list (null: the first GPU, else the first device)
     */
    public static Choice select(String name, Integer device) {
        return select(name, device, SpeedProbe.KERNELS);
    }

    /** As {@link #select(String, Integer)}, with auto comparing CPU backends by {@code timer}'s steps. */
    public static Choice select(String name, Integer device, StepTimer timer) {
        switch (name) {
            case "java":
                if (!vectorApiEnabled()) throw new UnavailableException("the java backend " + NEEDS_VECTOR_API);
                return new Choice(new CpuBackend(), "java (asked for with --backend java)");
            case "reference":
                return new Choice(new ReferenceBackend(), "reference (asked for with --backend reference: plain loops on one thread, slow)");
            case "opencl": {
                OpenCl.Device d = OpenCl.device(device);
                return new Choice(new OpenClBackend(d), "opencl on " + d.describe() + " (asked for with --backend opencl)");
            }
            case "auto": {
                Decision decision = decideAuto(device, timer, false);
                boolean warn = !vectorApiEnabled();  // a library user may not know the flag
                if (warn) System.err.println("warning: " + decision.reason());
                Backend backend = switch (decision.backend()) {
                    case "opencl" -> new OpenClBackend(decision.device());
                    case "reference" -> new ReferenceBackend();
                    default -> new CpuBackend();
                };
                return new Choice(backend, decision.reason(), warn);
            }
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "': use one of " + String.join(", ", NAMES));
        }
    }

    /** The module the java backend's kernels are written with (the Vector API, an incubator module in Java 17). */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String NEEDS_VECTOR_API = "needs the Vector API, which this JVM was started without: run java with --add-modules "
            + VECTOR_MODULE + " (the ./advtrain launcher does)";

    /**
     * Whether this JVM runs with the Vector API. The launcher enables it; a program that uses advtrain
     * as a library may not, and the java backend's kernels would then fail with NoClassDefFoundError.
     */
    public static boolean vectorApiEnabled() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /**
     * auto without the Vector API: an OpenCL device if there is one, else the reference backend,
     * which runs anywhere but slowly; the reason names the flag that would enable the java backend.
     */
    private static Decision withoutVectorApi(Integer index) {
        try {
            OpenCl.Device device = OpenCl.device(index);
            return Decision.opencl(device, "auto chose opencl on " + device.describe() + ": the java backend " + NEEDS_VECTOR_API);
        } catch (UnavailableException e) {
            return new Decision("reference", null, "auto chose reference (plain loops on one thread, slow): the java backend "
                    + NEEDS_VECTOR_API + ", and OpenCL is unavailable (" + problem(e) + ")");
        }
    }

    /**
     * What auto chooses, and why, without making the backend; {@code thorough} (advtrain devices): an
     * undecided speed comparison is measured again with the longest warm-up, and cached.
     */
    public static String autoReason(Integer device, StepTimer timer, boolean thorough) {
        return decideAuto(device, timer, thorough).reason();
    }

    /**
     * The backend auto chooses: "java", "opencl", or "reference" in a JVM without the Vector API and
     * without OpenCL; {@code thorough} as for {@link #autoReason}.
     */
    public static String autoName(Integer device, StepTimer timer, boolean thorough) {
        return decideAuto(device, timer, thorough).backend();
    }

    private static synchronized Decision decideAuto(Integer index, StepTimer timer, boolean thorough) {
        String key = index + "|" + timer.name() + "|" + thorough;
        Decision decision = autoDecisions.get(key);
        if (decision == null) {
            decision = vectorApiEnabled() ? measureAuto(index, timer, thorough) : withoutVectorApi(index);
            autoDecisions.put(key, decision);
        }
        return decision;
    }

    private static Decision measureAuto(Integer index, StepTimer timer, boolean thorough) {
        List<OpenCl.Device> devices;
        try {
            devices = OpenCl.devices();
        } catch (UnavailableException e) {
            return Decision.java("auto chose java: " + problem(e));
        }
        if (index != null) {
            OpenCl.Device d = OpenCl.device(index);
            return Decision.opencl(d, "auto chose opencl: --device " + index + " is " + d.describe());
        }
        for (OpenCl.Device d : devices) {
            if (d.gpu()) return Decision.opencl(d, "auto chose opencl: GPU " + d.describe());
        }
        OpenCl.Device cpu = devices.get(0);
        SpeedProbe.Result speed;
        try {
            speed = SpeedProbe.compare(cpu, CpuBackend::new, () -> new OpenClBackend(cpu), timer, thorough);
        } catch (RuntimeException e) {
            return Decision.java("auto chose java: the OpenCL device " + cpu.name() + " failed a trial run ("
                    + firstLine(e.getMessage()) + ")");
        }
        String figures = String.format(java.util.Locale.ROOT, "%s took %.1f ms on OpenCL %s vs %.1f ms in Java; %s (%s, cached in %s%s)",
                timer.name(), speed.openclMillis(), cpu.name(), speed.javaMillis(), speed.how().description(),
                speed.cached() ? "measured earlier" : "measured now", speed.cacheFile(),
                speed.how() == SpeedProbe.How.UNDECIDED ? "; `advtrain devices` measures again, longer" : "");
        return speed.openclFaster()
                ? Decision.opencl(cpu, "auto chose opencl: no GPU, and " + figures)
                : Decision.java("auto chose java: no OpenCL GPU, and " + figures);
    }

    /** The problem half of an UnavailableException's "problem; fix" message. */
    private static String problem(UnavailableException e) {
        String m = e.getMessage();
        int semicolon = m.indexOf("; ");
        return semicolon < 0 ? m : m.substring(0, semicolon);
    }

    private static String firstLine(String message) {
        if (message == null) return "no message";
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** One entry per backend for `advtrain devices`: name, available, device, reason. */
    public static List<Map<String, Object>> describe() {
        List<Map<String, Object>> list = new ArrayList<>();
        Map<String, Object> java = new LinkedHashMap<>();
        java.put("name", "java");
        java.put("available", vectorApiEnabled());
        java.put("device", new CpuBackend().deviceName());
        java.put("reason", vectorApiEnabled() ? "always available" : "unavailable: it " + NEEDS_VECTOR_API);
        list.add(java);
        Map<String, Object> opencl = new LinkedHashMap<>();
        opencl.put("name", "opencl");
        try {
            List<OpenCl.Device> devices = OpenCl.devices();
            OpenCl.Device first = OpenCl.device(null);
            opencl.put("available", true);
            opencl.put("device", first.name());
            opencl.put("reason", devices.size() + " OpenCL device" + (devices.size() == 1 ? "" : "s")
                    + "; without --device it runs on " + first.describe());
        } catch (UnavailableException e) {
            opencl.put("available", false);
            opencl.put("device", null);
            opencl.put("reason", e.getMessage());
        }
        list.add(opencl);
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("name", "reference");
        reference.put("available", true);
        reference.put("device", new ReferenceBackend().deviceName());
        reference.put("reason", "always available; the plain definition the others are tested against, slow; auto takes it only where nothing else runs");
        list.add(reference);
        return list;
    }

    /**
     * What the OpenCL loader needs before any device shows up (the library, the ICD files, the
     * vendors' drivers), one entry per finding: what, ok, detail.
     */
    public static List<Map<String, Object>> describeOpenClLoader() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (LoaderCheck.Finding f : LoaderCheck.check()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", f.what());
            m.put("ok", f.ok());
            m.put("detail", f.detail());
            list.add(m);
        }
        return list;
    }

    /** Every OpenCL device, as `advtrain devices` lists them (index, platform, name, type, sizes, version); empty without OpenCL. */
    public static List<Map<String, Object>> describeDevices() {
        List<Map<String, Object>> list = new ArrayList<>();
        List<OpenCl.Device> devices;
        try {
            devices = OpenCl.devices();
        } catch (UnavailableException e) {
            return list;
        }
        for (OpenCl.Device d : devices) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", d.index());
            m.put("platform", d.platform());
            m.put("platform_version", d.platformVersion());
            m.put("name", d.name());
            m.put("vendor", d.vendor());
            m.put("type", d.type());
            m.put("compute_units", d.computeUnits());
            m.put("global_memory_bytes", d.globalMemoryBytes());
            m.put("local_memory_bytes", d.localMemoryBytes());
            m.put("max_work_group_size", d.maxWorkGroupSize());
            m.put("opencl_version", d.openclVersion());
            m.put("opencl_c_version", d.openclCVersion());
            m.put("driver_version", d.driverVersion());
            list.add(m);
        }
        return list;
    }
}
