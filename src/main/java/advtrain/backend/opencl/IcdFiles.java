package advtrain.backend.opencl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Why the OpenCL loader found no platform, said as precisely as the files allow. The ICD loader
 * reads the .icd files of one folder (OCL_ICD_VENDORS when set, else /etc/OpenCL/vendors); each
 * names a driver library to load. The explanation says which folder was read and what was wrong:
 * the folder is missing, holds no .icd file, or names libraries that are not there.
 */
final class IcdFiles {
    static final Path DEFAULT_VENDORS = Path.of("/etc/OpenCL/vendors");

    private IcdFiles() {}

    /**
     * @param vendorsEnv the value of OCL_ICD_VENDORS (null: not set)
     * @param libraryDirs where a driver named without a folder is looked for
     * @param loaderCache the dynamic loader's cache (/etc/ld.so.cache), or null
     */
    static String whyNoPlatform(String vendorsEnv, Path defaultVendors, List<Path> libraryDirs, Path loaderCache) {
        boolean fromEnv = vendorsEnv != null && !vendorsEnv.isBlank();
        Path where = fromEnv ? Path.of(vendorsEnv.trim()) : defaultVendors;
        String source = fromEnv ? "OCL_ICD_VENDORS=" + where : where.toString();
        List<Path> icds;
        try {
            icds = list(where);
        } catch (IOException e) {
            return "the ICD folder " + source + " cannot be read (" + e.getMessage() + ")";
        }
        if (icds == null) {
            return "the ICD folder " + source + " does not exist" + (fromEnv ? " (unset OCL_ICD_VENDORS to use " + defaultVendors + ")" : "");
        }
        if (icds.isEmpty()) return "no .icd file in " + source;
        List<String> missing = new ArrayList<>();
        for (Path icd : icds) {
            String library;
            try {
                library = Files.readString(icd, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                missing.add(icd + " cannot be read");
                continue;
            }
            if (library.isEmpty()) missing.add(icd + " is empty");
            else if (!found(library, libraryDirs, loaderCache)) missing.add(icd + " names " + library + ", which is not installed");
        }
        if (missing.size() == icds.size()) return String.join("; ", missing);
        return "the ICD files in " + source + " name installed drivers, but none gave a platform (see `clinfo`)"
                + (missing.isEmpty() ? "" : "; " + String.join("; ", missing));
    }

    /** The .icd files of the folder, sorted (or the one file OCL_ICD_VENDORS may name); null when it does not exist. */
    static List<Path> list(Path where) throws IOException {
        if (Files.isRegularFile(where)) return List.of(where);
        if (!Files.isDirectory(where)) return null;
        try (Stream<Path> files = Files.list(where)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".icd")).sorted().toList();
        }
    }

    /** Whether the driver library an .icd file names is installed (a path, or a name the dynamic loader finds). */
    static boolean found(String library, List<Path> libraryDirs, Path loaderCache) {
        if (library.contains("/")) return Files.exists(Path.of(library));
        for (Path dir : libraryDirs) if (Files.exists(dir.resolve(library))) return true;
        if (loaderCache == null || !Files.isRegularFile(loaderCache)) return false;
        try {
            String cache = new String(Files.readAllBytes(loaderCache), StandardCharsets.ISO_8859_1);
            return cache.contains("/" + library + "\0");
        } catch (IOException e) {
            return true;  // cannot tell: do not blame the library
        }
    }
}
