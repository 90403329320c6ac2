package advtrain.backend.opencl;

import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel files are built once per device, and a kernel that does not compile says why. */
class ClContextTest {

    @Test
    void aBuildFailureCarriesTheCompilerLog() {
        OpenClBackend backend = (OpenClBackend) TestBackends.get("opencl");
        ClContext context = ClContext.of(backend.device());
        OpenClException e = assertThrows(OpenClException.class, () -> context.compile("kernels/broken.cl",
                "__kernel void broken(__global float* out) { out[0] = undeclared_name; }"));
        assertTrue(e.getMessage().startsWith("OpenCL: kernels/broken.cl did not build for " + backend.device().name()), e.getMessage());
        assertTrue(e.getMessage().contains("build log:") && e.getMessage().contains("undeclared_name"),
                "the log names the offending identifier: " + e.getMessage());
    }

    @Test
    void everyKernelFileIsBuiltOncePerDevice() {
        OpenClBackend backend = (OpenClBackend) TestBackends.get("opencl");
        assertSame(ClContext.of(backend.device()), ClContext.of(backend.device()));
        assertEquals(ClContext.FAMILIES.size(), ClContext.of(backend.device()).kernelNames().values().stream().distinct().count(),
                "every family has kernels");
        assertEquals("conv", ClContext.of(backend.device()).kernelNames().get("conv2d_forward_tiled"));
    }
}
