package advtrain.backend.opencl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The loader findings of `advtrain devices`, on made-up machines (folders of empty files standing for libraries). */
class LoaderCheckTest {

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, new byte[0]);
    }

    private static LoaderCheck.Finding find(List<LoaderCheck.Finding> findings, String start) {
        return findings.stream().filter(f -> f.what().startsWith(start)).findFirst()
                .orElseThrow(() -> new AssertionError("no finding about " + start + " in " + findings));
    }

    /** A container with NVIDIA's driver only: libOpenCL.so.1 but no libOpenCL.so, and no nvidia.icd. */
    @Test
    void aDriverOnlyHostIsToldWhatToLinkAndWhatToWrite(@TempDir Path tmp) throws IOException {
        Path lib = tmp.resolve("lib");
        touch(lib.resolve("libOpenCL.so.1"));
        touch(lib.resolve("libnvidia-opencl.so.1"));
        Path vendors = Files.createDirectories(tmp.resolve("vendors"));
        List<LoaderCheck.Finding> findings = LoaderCheck.check(List.of(lib), null, null, vendors, true);
        LoaderCheck.Finding library = find(findings, "libOpenCL.so");
        assertFalse(library.ok());
        assertTrue(library.detail().contains(lib.resolve("libOpenCL.so.1") + " is there: link it"), library.detail());
        LoaderCheck.Finding icd = find(findings, "ICD files (" + vendors);
        assertFalse(icd.ok());
        assertTrue(icd.detail().contains("no .icd file"), icd.detail());
        LoaderCheck.Finding nvidia = find(findings, "NVIDIA");
        assertFalse(nvidia.ok());
        assertTrue(nvidia.detail().contains(lib.resolve("libnvidia-opencl.so.1") + " is installed but no .icd file names it")
                && nvidia.detail().contains("nvidia.icd") && nvidia.detail().contains("OCL_ICD_VENDORS"), nvidia.detail());
        assertTrue(nvidia.toString().startsWith("NVIDIA OpenCL driver: MISSING: "), nvidia.toString());
    }

    /** Everything in place: the library, an ICD file naming an installed driver, named by OCL_ICD_VENDORS. */
    @Test
    void aWorkingSetupIsListed(@TempDir Path tmp) throws IOException {
        Path lib = tmp.resolve("lib");
        touch(lib.resolve("libOpenCL.so"));
        touch(lib.resolve("libnvidia-opencl.so.1"));
        Path vendors = tmp.resolve("mine");
        Files.createDirectories(vendors);
        Files.writeString(vendors.resolve("nvidia.icd"), "libnvidia-opencl.so.1\n");
        Files.writeString(vendors.resolve("gone.icd"), "/nowhere/libgone.so\n");
        List<LoaderCheck.Finding> findings = LoaderCheck.check(List.of(lib), null, vendors.toString(), tmp.resolve("unused"), true);
        assertTrue(findings.stream().allMatch(LoaderCheck.Finding::ok), findings.toString());
        LoaderCheck.Finding icd = find(findings, "ICD files (OCL_ICD_VENDORS=" + vendors);
        assertEquals("gone.icd -> /nowhere/libgone.so (not installed), nvidia.icd -> libnvidia-opencl.so.1", icd.detail());
        assertEquals("found: " + lib.resolve("libOpenCL.so"), find(findings, "libOpenCL.so").detail());
    }

    /** Nothing at all; no NVIDIA driver loaded, so nothing is said about NVIDIA. */
    @Test
    void aBareHostIsToldWhatToInstall(@TempDir Path tmp) {
        List<LoaderCheck.Finding> findings = LoaderCheck.check(List.of(tmp), null, null, tmp.resolve("absent"), false);
        assertEquals(2, findings.size(), findings.toString());
        assertTrue(find(findings, "libOpenCL.so").detail().contains("apt-get install ocl-icd-libopencl1"));
        assertTrue(find(findings, "ICD files").detail().contains("does not exist"));
    }

    /** A library known only to the dynamic loader's cache is found there. */
    @Test
    void theLoaderCacheIsRead(@TempDir Path tmp) throws IOException {
        Path cache = Files.write(tmp.resolve("ld.so.cache"),
                "junk\0/usr/lib/x86_64-linux-gnu/libOpenCL.so.1\0more\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals(Path.of("/usr/lib/x86_64-linux-gnu/libOpenCL.so.1"), LoaderCheck.locate("libOpenCL.so.1", List.of(), cache));
        assertNull(LoaderCheck.locate("libOpenCL.so", List.of(), cache));
    }
}
