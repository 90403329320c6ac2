package advtrain.backend.opencl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the OpenCL backend needs from the machine before any device shows up, checked file by file
 * without loading anything, for {@code advtrain devices}: JOCL opens the library by the name
 * {@code libOpenCL.so} only (driver-only hosts and containers often have just {@code libOpenCL.so.1});
 * the ICD loader then reads the {@code .icd} files of one folder ({@code OCL_ICD_VENDORS}, else
 * /etc/OpenCL/vendors), each naming a driver library; and NVIDIA's driver ships
 * {@code libnvidia-opencl.so.1}, which only works when an .icd file names it. Each finding says what
 * was looked for, where, what is there, and what to do when something is missing.
 */
public final class LoaderCheck {
    private LoaderCheck() {}

    /** One thing looked for: its name, whether it is fine, and what was found or how to fix it. */
    public record Finding(String what, boolean ok, String detail) {
        @Override public String toString() { return what + ": " + (ok ? "" : "MISSING: ") + detail; }
    }

    static final String LIBRARY = "libOpenCL.so", NVIDIA_DRIVER = "libnvidia-opencl.so.1";

    /** This machine, as the dynamic loader and the ICD loader see it. */
    public static List<Finding> check() {
        return check(OpenCl.systemLibraryDirs(), Path.of("/etc/ld.so.cache"), System.getenv("OCL_ICD_VENDORS"), IcdFiles.DEFAULT_VENDORS,
                Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/proc/driver/nvidia")));
    }

    /**
     * @param libraryDirs where the dynamic loader looks besides its cache (LD_LIBRARY_PATH first)
     * @param loaderCache /etc/ld.so.cache, or null for none
     * @param vendorsEnv OCL_ICD_VENDORS, or null when unset
     * @param nvidiaDevice whether an NVIDIA kernel driver is loaded (/dev/nvidiactl): then its OpenCL part is expected
     */
    static List<Finding> check(List<Path> libraryDirs, Path loaderCache, String vendorsEnv, Path defaultVendors,
                               boolean nvidiaDevice) {
        List<Finding> findings = new ArrayList<>();
        String searched = "LD_LIBRARY_PATH, " + (loaderCache == null ? "" : loaderCache + ", ") + "/usr/lib and the other system folders";
        Path library = locate(LIBRARY, libraryDirs, loaderCache);
        Path versioned = locate(LIBRARY + ".1", libraryDirs, loaderCache);
        if (library != null) {
            findings.add(new Finding(LIBRARY + " (JOCL's name for the OpenCL loader)", true, "found: " + library));
        } else if (versioned != null) {
            findings.add(new Finding(LIBRARY + " (JOCL's name for the OpenCL loader)", false, "not in " + searched
                    + "; " + versioned + " is there: link it (ln -s " + versioned + " DIR/" + LIBRARY
                    + " and put DIR on LD_LIBRARY_PATH) or apt-get install ocl-icd-opencl-dev"));
        } else {
            findings.add(new Finding(LIBRARY + " (JOCL's name for the OpenCL loader)", false, "neither it nor "
                    + LIBRARY + ".1 is in " + searched + "; apt-get install ocl-icd-libopencl1 ocl-icd-opencl-dev"));
        }

        boolean fromEnv = vendorsEnv != null && !vendorsEnv.isBlank();
        Path vendors = fromEnv ? Path.of(vendorsEnv.trim()) : defaultVendors;
        String folder = "ICD files (" + (fromEnv ? "OCL_ICD_VENDORS=" : "") + vendors + ")";
        List<Path> icds;
        try {
            icds = IcdFiles.list(vendors);
        } catch (IOException e) {
            icds = List.of();
        }
        boolean nvidiaNamed = false;
        if (icds == null) {
            findings.add(new Finding(folder, false, "the folder does not exist: the OpenCL loader will find no driver"));
        } else if (icds.isEmpty()) {
            findings.add(new Finding(folder, false, "no .icd file: the OpenCL loader will find no driver"));
        } else {
            List<String> listed = new ArrayList<>();
            boolean anyFound = false;
            for (Path icd : icds) {
                String named = read(icd);
                boolean found = !named.isEmpty() && IcdFiles.found(named, libraryDirs, loaderCache);
                anyFound |= found;
                nvidiaNamed |= named.contains("nvidia");
                listed.add(icd.getFileName() + " -> " + (named.isEmpty() ? "(empty)" : named) + (found ? "" : " (not installed)"));
            }
            findings.add(new Finding(folder, anyFound, String.join(", ", listed)));
        }

        Path nvidia = locate(NVIDIA_DRIVER, libraryDirs, loaderCache);
        if (nvidia != null && !nvidiaNamed) {
            findings.add(new Finding("NVIDIA OpenCL driver", false, nvidia + " is installed but no .icd file names it: "
                    + "echo " + NVIDIA_DRIVER + " > " + defaultVendors.resolve("nvidia.icd")
                    + " (or write it in a folder of your own and set OCL_ICD_VENDORS to that folder)"));
        } else if (nvidia != null) {
            findings.add(new Finding("NVIDIA OpenCL driver", true, "found: " + nvidia + ", named by an .icd file"));
        } else if (nvidiaDevice) {
            findings.add(new Finding("NVIDIA OpenCL driver", false, "an NVIDIA kernel driver is loaded but " + NVIDIA_DRIVER
                    + " is not in " + searched + " (containers: NVIDIA_DRIVER_CAPABILITIES must include compute)"));
        }
        return findings;
    }

    private static String read(Path icd) {
        try {
            return Files.readString(icd, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** Where the dynamic loader would find this library file: the folders in order, then its cache; null if nowhere. */
    static Path locate(String name, List<Path> dirs, Path loaderCache) {
        for (Path dir : dirs) if (Files.exists(dir.resolve(name))) return dir.resolve(name);
        if (loaderCache == null || !Files.isRegularFile(loaderCache)) return null;
        try {
            // The cache holds the full path of every library it knows, each ending in a NUL byte.
            String cache = new String(Files.readAllBytes(loaderCache), StandardCharsets.ISO_8859_1);
            int at = cache.indexOf("/" + name + "\0");
            return at < 0 ? null : Path.of(cache.substring(cache.lastIndexOf('\0', at) + 1, at + name.length() + 1));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
