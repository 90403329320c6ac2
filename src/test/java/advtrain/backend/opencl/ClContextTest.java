package advtrain.backend.opencl;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.jocl.cl_kernel;
import org.jocl.cl_program;
import org.junit.jupiter.api.Test;

import static org.jocl.CL.clCreateKernelsInProgram;
import static org.jocl.CL.clReleaseProgram;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernel files are built once per device, build without optimisation too, a kernel that does
 * not compile says why, and errors of later commands name the kernel launched last.
 */
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

    /**
     * With -cl-opt-disable nothing is inlined, so a helper declared plain {@code inline} (C99: no
     * standalone definition) leaves an undefined function at link time; every helper must be
     * {@code static inline}. Each file must build and link, and give its kernels.
     */
    @Test
    void everyKernelFileBuildsWithOptimisationDisabled() {
        OpenClBackend backend = (OpenClBackend) TestBackends.get("opencl");
        ClContext context = ClContext.of(backend.device());
        for (String family : ClContext.FAMILIES) {
            String path = "kernels/" + family + ".cl";
            cl_program program = context.compile(path, ClContext.resource(path), "-cl-opt-disable");
            int[] count = new int[1];
            clCreateKernelsInProgram(program, 0, (cl_kernel[]) null, count);
            assertTrue(count[0] > 0, path + " has kernels");
            clReleaseProgram(program);
        }
    }

    /**
     * PoCL accepts a plain {@code inline} helper even with -cl-opt-disable (the build above passes
     * either way there), so the rule is also checked in the source: every function at file level
     * that is not a {@code __kernel} is {@code static}.
     */
    @Test
    void everyHelperFunctionIsStatic() {
        java.util.regex.Pattern function = java.util.regex.Pattern.compile(
                "^(?!\\s)(?!#)(?!//)([A-Za-z_][\\w ]*?)\\s+\\**\\s*([A-Za-z_]\\w*)\\s*\\(", java.util.regex.Pattern.MULTILINE);
        int helpers = 0;
        for (String family : ClContext.FAMILIES) {
            String path = "kernels/" + family + ".cl";
            String source = ClContext.resource(path);
            java.util.regex.Matcher m = function.matcher(source);
            while (m.find()) {
                String head = m.group(1);
                String before = source.substring(0, Math.max(0, m.start() - 1));
                String lineBefore = before.substring(before.lastIndexOf('\n') + 1);
                if (head.contains("__kernel") || lineBefore.startsWith("__kernel")) continue;  // a kernel, its attributes on the line before
                helpers++;
                assertTrue(head.startsWith("static "), path + ": helper " + m.group(2) + " must be static inline, is '" + head + "'");
            }
        }
        assertTrue(helpers >= 9, "the helpers were found (" + helpers + ")");
    }

    /** A read, write or fill that fails says what it was doing and which kernel ran last. */
    @Test
    void failedCopiesNameTheLastKernel() {
        OpenClBackend backend = (OpenClBackend) TestBackends.get("opencl");
        ClContext context = ClContext.of(backend.device());
        Tensor x = Tensors.fromArray(backend, new float[] {-1f, 2f}, 2);
        backend.unary(Backend.UnaryOp.RELU, x, x);
        // A tensor that claims more floats than its buffer holds: the runtime refuses the copy (CL_INVALID_VALUE).
        int claimed = 100_000;
        Tensor bogus = new Tensor(Shape.of(claimed), new ClStorage(context.allocate(4), claimed, context));
        OpenClException read = assertThrows(OpenClException.class, () -> backend.read(bogus, new float[claimed], 0));
        assertTrue(read.getMessage().contains("reading " + claimed + " floats from the device failed on " + backend.device().name()),
                read.getMessage());
        assertTrue(read.getMessage().contains("CL_INVALID_VALUE") && read.getMessage().contains("the last kernel launched: relu"),
                read.getMessage());
        OpenClException write = assertThrows(OpenClException.class, () -> backend.write(bogus, new float[claimed], 0));
        assertTrue(write.getMessage().contains("writing " + claimed + " floats") && write.getMessage().contains("relu"), write.getMessage());
        Tensor bogusSmall = new Tensor(Shape.of(1000), new ClStorage(context.allocate(4), 1000, context));
        OpenClException fill = assertThrows(OpenClException.class, () -> backend.fill(bogusSmall, 1f));
        assertTrue(fill.getMessage().contains("filling 1000 floats") && fill.getMessage().contains("relu"), fill.getMessage());
        assertArrayEquals(new float[] {0f, 2f}, Tensors.toArray(backend, x), "the backend still works after the errors");
    }

    /** With the sync switch every launch is finished at once, so a failure is the named kernel's own. */
    @Test
    void syncModeFinishesEachLaunchAndNamesTheKernel() {
        OpenClBackend backend = (OpenClBackend) TestBackends.get("opencl");
        ClContext context = ClContext.of(backend.device());
        context.syncAfterEachLaunch(true);
        try {
            Tensor x = Tensors.fromArray(backend, new float[] {-3f, 4f, -5f}, 3), y = backend.allocate(Shape.of(3));
            backend.unary(Backend.UnaryOp.RELU, x, y);
            assertEquals("relu", context.lastKernel());
            assertArrayEquals(new float[] {0f, 4f, 0f}, Tensors.toArray(backend, y));
            // a work group that does not divide the range: the runtime refuses the launch
            OpenClException e = assertThrows(OpenClException.class,
                    () -> context.call("relu").buffer(x).buffer(y).i(3).runGroups(3, 2));
            assertTrue(e.getMessage().startsWith("OpenCL: kernel relu failed on " + backend.device().name()), e.getMessage());
            int claimed = 100_000;
            Tensor bogus = new Tensor(Shape.of(claimed), new ClStorage(context.allocate(4), claimed, context));
            OpenClException read = assertThrows(OpenClException.class, () -> backend.read(bogus, new float[claimed], 0));
            assertTrue(read.getMessage().contains("relu, which completed"), read.getMessage());
        } finally {
            context.syncAfterEachLaunch(ClContext.SYNC);
        }
    }
}
