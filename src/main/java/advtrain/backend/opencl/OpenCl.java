package advtrain.backend.opencl;

import advtrain.backend.UnavailableException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.jocl.CL.*;

/**
 * Finds the OpenCL platforms and devices of this machine, and turns every way of not having one
 * (no OpenCL library, no driver, no device) into an {@link UnavailableException} whose message is
 * one line naming the problem and the fix. Devices are numbered in one flat list over the
 * platforms, in the order the OpenCL loader reports them: that index is what --device takes.
 */
public final class OpenCl {
    private OpenCl() {}

    /** What to install, or what to use instead, when OpenCL is missing. */
    static final String FIX = "install an OpenCL driver (Debian/Ubuntu CPU: apt-get install pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev;"
            + " GPU: the vendor's OpenCL driver) or use --backend java";

    /** One OpenCL device and the properties that matter for choosing and sizing kernels. */
    public record Device(int index, String platform, String platformVersion, String name, String vendor,
                         boolean gpu, String type, int computeUnits, long globalMemoryBytes, long localMemoryBytes,
                         long maxWorkGroupSize, String openclVersion, String openclCVersion, String driverVersion,
                         cl_platform_id platformId, cl_device_id id) {

        /** "pthread-skylake-avx512 (CPU, 2 compute units, OpenCL 3.0, Portable Computing Language)" */
        public String describe() {
            return name + " (" + type + ", " + computeUnits + " compute units, " + (globalMemoryBytes >> 20) + " MiB, "
                    + openclVersion + ", " + platform + ")";
        }
    }

    private static List<Device> cached;

    /**
     * Every OpenCL device of every platform, found once per process.
     *
     * @throws UnavailableException when there is no OpenCL library, no platform or no device
     */
    public static synchronized List<Device> devices() {
        if (cached == null) {
            String missing = missingLibrary();
            if (missing != null) throw new UnavailableException(missing);
            try {
                cached = List.copyOf(discover());
            } catch (LinkageError | CLException e) {
                throw explain(e);
            }
        }
        if (cached.isEmpty()) {  // every call, not only the first: the empty list stays cached
            throw new UnavailableException("no OpenCL device: the installed OpenCL platforms report no devices; " + FIX);
        }
        return cached;
    }

    /** The device with this index in the flat list, or the first GPU, else the first device when index is null. */
    public static Device device(Integer index) {
        List<Device> all = devices();
        if (index == null) {
            return all.stream().filter(Device::gpu).findFirst().orElse(all.get(0));
        }
        if (index < 0 || index >= all.size()) {
            StringBuilder names = new StringBuilder();
            for (Device d : all) names.append(names.length() == 0 ? "" : ", ").append(d.index()).append(": ").append(d.name());
            throw new IllegalArgumentException("--device " + index + ": there is no OpenCL device " + index
                    + " (this machine has " + names + "; see advtrain devices)");
        }
        return all.get(index);
    }

    /**
     * The one-line explanation of a failure to reach OpenCL. JOCL throws UnsatisfiedLinkError when the
     * OpenCL library itself is missing (later uses of the class then give NoClassDefFoundError), and
     * the ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no driver is registered.
     */
    static UnavailableException explain(Throwable failure) {
        if (failure instanceof LinkageError) {
            return new UnavailableException("no OpenCL runtime: the OpenCL library (libOpenCL) could not be loaded ("
                    + firstLine(failure) + "); " + FIX);
        }
        if (failure instanceof CLException cl && cl.getStatus() == CL_PLATFORM_NOT_FOUND_KHR) {
            return new UnavailableException("no OpenCL platform: the OpenCL loader found no installed driver ("
                    + IcdFiles.whyNoPlatform(System.getenv("OCL_ICD_VENDORS"), IcdFiles.DEFAULT_VENDORS, systemLibraryDirs(),
                            Path.of("/etc/ld.so.cache")) + "); " + FIX);
        }
        if (failure instanceof CLException cl && cl.getStatus() == CL_DEVICE_NOT_FOUND) {
            return new UnavailableException("no OpenCL device: the installed OpenCL platforms report no devices; " + FIX);
        }
        return new UnavailableException("OpenCL failed while listing devices (" + firstLine(failure) + "); " + FIX);
    }

    /**
     * JOCL opens the OpenCL library by the name libOpenCL.so and nothing else. Looking for that file
     * where the dynamic loader would (LD_LIBRARY_PATH, the loader's cache, the system directories)
     * before touching JOCL gives a precise message, and keeps JOCL's own native complaint off stderr.
     * Returns null when the library is there (or on systems other than Linux, where JOCL's own check
     * decides), else the one-line explanation.
     */
    static String missingLibrary() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return null;
        String override = System.getProperty("advtrain.opencl.libraryPath");  // tests: simulate another machine
        List<Path> dirs = new ArrayList<>();
        Path loaderCache = null;
        if (override != null) {
            for (String d : override.split(":")) if (!d.isBlank()) dirs.add(Path.of(d));
        } else {
            dirs.addAll(systemLibraryDirs());
            loaderCache = Path.of("/etc/ld.so.cache");
        }
        return missingLibrary(dirs, loaderCache);
    }

    /** Where the dynamic loader looks for a library besides its cache: LD_LIBRARY_PATH, then the system folders. */
    static List<Path> systemLibraryDirs() {
        List<Path> dirs = new ArrayList<>();
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) for (String d : ldPath.split(":")) if (!d.isBlank()) dirs.add(Path.of(d));
        for (String d : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib"}) dirs.add(Path.of(d));
        return dirs;
    }

    /** As {@link #missingLibrary()}, over these directories and this dynamic-loader cache file (null: none). */
    static String missingLibrary(List<Path> dirs, Path loaderCache) {
        Path versioned = null;
        for (Path dir : dirs) {
            if (Files.exists(dir.resolve(LIBRARY))) return null;
            if (versioned == null && Files.exists(dir.resolve(LIBRARY + ".1"))) versioned = dir.resolve(LIBRARY + ".1");
        }
        if (loaderCache != null && Files.isRegularFile(loaderCache)) {
            try {
                // The cache holds the full path of every library it knows, each ending in a NUL byte.
                String cache = new String(Files.readAllBytes(loaderCache), StandardCharsets.ISO_8859_1);
                if (cache.contains("/" + LIBRARY + "\0")) return null;
                int at = cache.indexOf("/" + LIBRARY + ".1\0");
                if (versioned == null && at >= 0) versioned = Path.of(cache.substring(cache.lastIndexOf('\0', at) + 1, at + LIBRARY.length() + 3));
            } catch (IOException | RuntimeException e) {
                return null;  // cannot tell: let JOCL try
            }
        }
        if (versioned != null) {
            return "no OpenCL runtime that JOCL can open: " + versioned + " is installed, but JOCL loads the name "
                    + LIBRARY + ", which Debian/Ubuntu ship in ocl-icd-opencl-dev; apt-get install ocl-icd-opencl-dev"
                    + " (or put a " + LIBRARY + " link to it on LD_LIBRARY_PATH), or use --backend java";
        }
        return "no OpenCL runtime: " + LIBRARY + " was not found (LD_LIBRARY_PATH, /etc/ld.so.cache, /usr/lib); "
                + "install an OpenCL driver (Debian/Ubuntu CPU: apt-get install pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev;"
                + " GPU: the vendor's OpenCL driver) or use --backend java";
    }

    private static final String LIBRARY = "libOpenCL.so";

    private static String firstLine(Throwable t) {
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).trim();
    }

    private static List<Device> discover() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<Device> devices = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            int[] deviceCount = new int[1];
            try {
                clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, deviceCount);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) continue;  // a platform without devices
                throw e;
            }
            cl_device_id[] ids = new cl_device_id[deviceCount[0]];
            clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            String platformName = platformString(platform, CL_PLATFORM_NAME);
            String platformVersion = platformString(platform, CL_PLATFORM_VERSION);
            for (cl_device_id id : ids) {
                long type = deviceLong(id, CL_DEVICE_TYPE);
                devices.add(new Device(devices.size(), platformName, platformVersion,
                        deviceString(id, CL_DEVICE_NAME), deviceString(id, CL_DEVICE_VENDOR),
                        (type & CL_DEVICE_TYPE_GPU) != 0, typeName(type),
                        deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS), deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE),
                        deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE), deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                        deviceString(id, CL_DEVICE_VERSION), deviceString(id, CL_DEVICE_OPENCL_C_VERSION),
                        deviceString(id, CL_DRIVER_VERSION), platform, id));
            }
        }
        return devices;
    }

    private static String typeName(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) return "GPU";
        if ((type & CL_DEVICE_TYPE_CPU) != 0) return "CPU";
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) return "accelerator";
        return "other";
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(device, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static long deviceLong(cl_device_id device, int param) {
        long[] value = new long[1];
        clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(value), null);
        return value[0];
    }

    static int deviceInt(cl_device_id device, int param) {
        int[] value = new int[1];
        clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(value), null);
        return value[0];
    }

    /** A size_t property (its width is the host's pointer size, as JOCL's Sizeof.size_t says). */
    static long deviceSize(cl_device_id device, int param) {
        long[] value = new long[1];
        clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(value), null);
        return value[0];
    }

    static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }

    /** The OpenCL C source of every kernel file, in build order: what a cached speed measurement depends on. */
    public static List<String> kernelSources() {
        List<String> sources = new ArrayList<>();
        for (String family : ClContext.FAMILIES) sources.add(ClContext.resource("kernels/" + family + ".cl"));
        return sources;
    }
}
