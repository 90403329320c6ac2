package advtrain.backend.opencl;

import advtrain.tensor.Tensor;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.jocl.CL.*;

/**
 * One OpenCL device made ready to run the engine's kernels: a context, one in-order command queue,
 * and every kernel file of {@code src/main/resources/kernels/} built once. Contexts are made once
 * per device and kept for the life of the process, so every backend on the same device shares the
 * built programs (building all the kernel files takes about a second on PoCL).
 */
final class ClContext {
    /** The kernel families, one .cl file each. */
    static final List<String> FAMILIES = List.of(
            "elementwise", "reduce", "random", "softmax_nll", "sgd", "pool", "linear", "conv", "conv_rows", "batchnorm");

    private static final Map<Integer, ClContext> contexts = new HashMap<>();

    /**
     * ADVTRAIN_OPENCL_PROFILE=1: time every kernel on the device (each launch then waits for its
     * kernel, so only the per-kernel figures mean anything) and print a table when the JVM exits.
     */
    static final boolean PROFILE = "1".equals(System.getenv("ADVTRAIN_OPENCL_PROFILE"));
    /**
     * -Dadvtrain.opencl.sync=true or ADVTRAIN_OPENCL_SYNC=1: finish the queue after every kernel
     * launch, so that a kernel that faults (CL_OUT_OF_RESOURCES, an invalid read) is named by the
     * error itself instead of surfacing at a later read. Slow: for finding a fault, not for runs.
     */
    static final boolean SYNC = Boolean.getBoolean("advtrain.opencl.sync") || "1".equals(System.getenv("ADVTRAIN_OPENCL_SYNC"));
    private volatile boolean sync = SYNC;
    /** The kernel most recently enqueued on this context's queue: errors that surface later name it. */
    private volatile String lastKernel;
    private final Map<String, long[]> profile = new java.util.TreeMap<>();  // kernel -> {launches, nanoseconds}

    final OpenCl.Device device;
    final cl_context context;
    final cl_command_queue queue;
    private final Map<String, cl_kernel> kernels = new LinkedHashMap<>();
    private final Map<String, String> kernelFamily = new HashMap<>();

    /** The shared context of a device, made on first use. */
    static synchronized ClContext of(OpenCl.Device device) {
        ClContext c = contexts.get(device.index());
        if (c == null) {
            c = new ClContext(device);
            contexts.put(device.index(), c);
        }
        return c;
    }

    private ClContext(OpenCl.Device device) {
        this.device = device;
        try {
            cl_context_properties properties = new cl_context_properties();
            properties.addProperty(CL_CONTEXT_PLATFORM, device.platformId());
            context = clCreateContext(properties, 1, new cl_device_id[] {device.id()}, null, null, null);
            // clCreateCommandQueue is deprecated in OpenCL 2.0 but is the one call every version has.
            @SuppressWarnings("deprecation")
            cl_command_queue q = clCreateCommandQueue(context, device.id(), PROFILE ? CL_QUEUE_PROFILING_ENABLE : 0, null);
            queue = q;
        } catch (CLException e) {
            throw new OpenClException("could not open OpenCL device " + device.name() + " (" + e.getMessage() + ")", e);
        }
        for (String family : FAMILIES) build(family);
    }

    /** Builds one kernel file and keeps its kernels by name; a failure carries the build log. */
    private void build(String family) {
        String path = "kernels/" + family + ".cl";
        cl_program program = compile(path, resource(path));
        int[] count = new int[1];
        clCreateKernelsInProgram(program, 0, null, count);
        cl_kernel[] made = new cl_kernel[count[0]];
        clCreateKernelsInProgram(program, made.length, made, null);
        for (cl_kernel kernel : made) {
            long[] size = new long[1];
            clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, 0, null, size);
            byte[] name = new byte[(int) size[0]];
            clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, name.length, Pointer.to(name), null);
            String kernelName = OpenCl.cString(name);
            kernels.put(kernelName, kernel);
            kernelFamily.put(kernelName, family);
        }
    }

    /** Builds OpenCL C source for this device; a failure throws with the compiler's log. */
    cl_program compile(String path, String source) { return compile(path, source, ""); }

    /** As {@link #compile(String, String)}, with these build options (e.g. "-cl-opt-disable"). */
    cl_program compile(String path, String source, String options) {
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device.id()}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(program);
            clReleaseProgram(program);
            throw new OpenClException(path + " did not build for " + device.name() + " ("
                    + stringFor_errorCode(e.getStatus()) + "); build log:\n" + log, e);
        }
        return program;
    }

    private String buildLog(cl_program program) {
        long[] size = new long[1];
        clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] log = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        return OpenCl.cString(log);
    }

    static String resource(String path) {
        try (InputStream in = ClContext.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new OpenClException("kernel source " + path + " is missing from the class path", null);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OpenClException("could not read kernel source " + path + ": " + e.getMessage(), e);
        }
    }

    cl_kernel kernel(String name) {
        cl_kernel k = kernels.get(name);
        if (k == null) throw new IllegalStateException("no OpenCL kernel named " + name);
        return k;
    }

    /** The largest work group this kernel can run with on this device (registers and local memory permitting). */
    long maxWorkGroupSize(String kernelName) {
        long[] size = new long[1];
        clGetKernelWorkGroupInfo(kernel(kernelName), device.id(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(size), null);
        return size[0];
    }

    /** The work-group size multiple the device runs best (a SIMD or warp width: 8 on PoCL, 32 on NVIDIA). */
    long preferredMultiple(String kernelName) {
        long[] size = new long[1];
        clGetKernelWorkGroupInfo(kernel(kernelName), device.id(), CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                Sizeof.size_t, Pointer.to(size), null);
        return Math.max(1, size[0]);
    }

    private final Map<String, Long> groupSizes = new HashMap<>();

    /** The 1-D work-group size for a kernel: a power of two up to 256 that the kernel can run with here. */
    synchronized long groupSize(String kernelName) {
        Long known = groupSizes.get(kernelName);  // (not computeIfAbsent: its lambda was allocated on every launch)
        if (known != null) return known;
        long size = Long.highestOneBit(Math.max(1, Math.min(256, Math.min(maxWorkGroupSize(kernelName), device.maxWorkGroupSize()))));
        groupSizes.put(kernelName, size);
        return size;
    }

    /** The kernels built, by name, with the file each came from. */
    Map<String, String> kernelNames() { return kernelFamily; }

    cl_mem allocate(long bytes) {
        return clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(bytes, Sizeof.cl_float), null, null);
    }

    /** Starts a kernel launch: add the arguments in order, then {@link Call#run}. */
    Call call(String kernelName) { return launches.get().start(kernelName); }

    /** One launch builder per calling thread, reused: a steady training step allocates nothing for its launches. */
    private final ThreadLocal<Call> launches = ThreadLocal.withInitial(Call::new);

    /**
     * A kernel launch being put together. Arguments are set and the kernel enqueued under one lock.
     * There is one per context and thread, refilled by every {@link #call}: a launch is built and
     * run before the same thread starts the next. Scalar arguments go through per-position
     * one-element arrays whose Pointers are made once, and a tensor's buffer through the Pointer
     * its storage keeps, so building a launch allocates nothing.
     */
    final class Call {
        private static final int MAX_ARGS = 32;
        private String name;
        private int count;
        private final long[] sizes = new long[MAX_ARGS];
        private final Pointer[] values = new Pointer[MAX_ARGS];
        private final int[][] ints = new int[MAX_ARGS][1];
        private final float[][] floats = new float[MAX_ARGS][1];
        private final long[][] longs = new long[MAX_ARGS][1];
        private final Pointer[] intPointers = new Pointer[MAX_ARGS], floatPointers = new Pointer[MAX_ARGS],
                longPointers = new Pointer[MAX_ARGS];
        /** Pointers to buffers that are not tensors (scratch, the dummy bias), made on first use. */
        private final Map<cl_mem, Pointer> rawBuffers = new IdentityHashMap<>();

        private Call() {
            for (int i = 0; i < MAX_ARGS; i++) {
                intPointers[i] = Pointer.to(ints[i]);
                floatPointers[i] = Pointer.to(floats[i]);
                longPointers[i] = Pointer.to(longs[i]);
            }
        }

        private Call start(String kernelName) {
            name = kernelName;
            count = 0;
            return this;
        }

        Call buffer(Tensor t) {
            if (t.storage() instanceof ClStorage s) {
                if (s.owner != ClContext.this) {
                    throw new IllegalArgumentException("tensor " + t + " lives on OpenCL device " + s.owner.device.name()
                            + ", not on " + device.name());
                }
                OpenClBackend.mem(t);  // checks it was not released
                return arg(Sizeof.cl_mem, s.pointer);
            }
            return buffer(OpenClBackend.mem(t));
        }

        Call buffer(cl_mem mem) { return arg(Sizeof.cl_mem, rawBuffers.computeIfAbsent(mem, Pointer::to)); }

        Call i(int v) { ints[count][0] = v; return arg(Sizeof.cl_int, intPointers[count]); }

        Call f(float v) { floats[count][0] = v; return arg(Sizeof.cl_float, floatPointers[count]); }

        Call l(long v) { longs[count][0] = v; return arg(Sizeof.cl_long, longPointers[count]); }

        /** A __local float array of this many elements. */
        Call localFloats(int count) { return arg((long) count * Sizeof.cl_float, null); }

        private Call arg(long size, Pointer value) {
            if (count == MAX_ARGS) throw new IllegalStateException("kernel " + name + ": more than " + MAX_ARGS + " arguments");
            sizes[count] = size;
            values[count] = value;
            count++;
            return this;
        }

        /**
         * Enqueues a 1-D range of n work items (rounded up to whole work groups: kernels check their
         * index against n). Work groups of up to 256 items, as many as the kernel allows on this device,
         * so that the runtime can spread them over every compute unit.
         */
        void run(long n) {
            long group = groupSize(name);
            runGroups(roundUp(n, group), group);
        }

        // Launches without an array per launch: a global range of 1, 2 or 3 dimensions, the work-group
        // size left to the runtime (runRange) or given (runGroups). CUDA-based drivers cap the second
        // and third dimensions at 65,535 work groups, and a runtime left to choose may pick groups of
        // one item for a prime-sized range, so the kernels a GPU runs (TILED, and everything 1-D)
        // give their groups; runRange's second and third dimensions serve only the ROWS and PLAIN
        // kernels, where they count channel blocks, image chunks or a batch's rows.
        private final long[][] globals = {null, new long[1], new long[2], new long[3]};
        private final long[][] locals = {null, new long[1], new long[2], new long[3]};

        void runRange(long g0) { globals[1][0] = g0; run(globals[1], null); }

        void runRange(long g0, long g1) { globals[2][0] = g0; globals[2][1] = g1; run(globals[2], null); }

        void runRange(long g0, long g1, long g2) {
            globals[3][0] = g0; globals[3][1] = g1; globals[3][2] = g2;
            run(globals[3], null);
        }

        void runGroups(long g0, long l0) { globals[1][0] = g0; locals[1][0] = l0; run(globals[1], locals[1]); }

        void runGroups(long g0, long g1, long l0, long l1) {
            globals[2][0] = g0; globals[2][1] = g1; locals[2][0] = l0; locals[2][1] = l1;
            run(globals[2], locals[2]);
        }

        void runGroups(long g0, long g1, long g2, long l0, long l1, long l2) {
            globals[3][0] = g0; globals[3][1] = g1; globals[3][2] = g2;
            locals[3][0] = l0; locals[3][1] = l1; locals[3][2] = l2;
            run(globals[3], locals[3]);
        }

        /** Enqueues over this global range in work groups of this local size (global is a multiple of it). */
        void run(long[] global, long[] local) {
            for (long g : global) if (g == 0) return;  // an empty tensor: nothing to do
            cl_kernel kernel = kernel(name);
            synchronized (ClContext.this) {
                try {
                    for (int i = 0; i < count; i++) clSetKernelArg(kernel, i, sizes[i], values[i]);
                    cl_event event = PROFILE ? new cl_event() : null;
                    lastKernel = name;
                    clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, event);
                    if (PROFILE) record(name, event);
                    if (sync) clFinish(queue);
                } catch (CLException e) {
                    throw new OpenClException("kernel " + name + " failed on " + device.name() + ": "
                            + stringFor_errorCode(e.getStatus()) + " (use --backend java to run without OpenCL)", e);
                }
            }
        }
    }

    private void record(String kernelName, cl_event event) {
        clWaitForEvents(1, new cl_event[] {event});
        long[] start = new long[1], end = new long[1];
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, Sizeof.cl_ulong, Pointer.to(start), null);
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, Sizeof.cl_ulong, Pointer.to(end), null);
        clReleaseEvent(event);
        if (profile.isEmpty()) {
            Runtime.getRuntime().addShutdownHook(new Thread(this::printProfile));
        }
        long[] entry = profile.computeIfAbsent(kernelName, k -> new long[2]);
        entry[0]++;
        entry[1] += end[0] - start[0];
    }

    private synchronized void printProfile() {
        long total = profile.values().stream().mapToLong(e -> e[1]).sum();
        System.err.printf("OpenCL kernel time on %s (ADVTRAIN_OPENCL_PROFILE=1):%n", device.name());
        profile.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).forEach(e ->
                System.err.printf("  %-32s %8d launches %10.1f ms %5.1f %%%n", e.getKey(), e.getValue()[0],
                        e.getValue()[1] / 1e6, 100.0 * e.getValue()[1] / Math.max(1, total)));
    }

    /**
     * An OpenCL error of a host-side command (a read, write, fill, flush or finish), wrapped with what
     * was being done and the kernel launched last: on an in-order queue a kernel's fault is reported
     * by whatever command comes after it, so the last kernel is the first suspect.
     */
    OpenClException failure(String doing, CLException e) {
        String kernel = lastKernel;
        return new OpenClException(doing + " failed on " + device.name() + ": " + stringFor_errorCode(e.getStatus())
                + (kernel == null ? " (no kernel launched yet)" : " (the last kernel launched: " + kernel
                + (sync ? ", which completed" : "; run with ADVTRAIN_OPENCL_SYNC=1 to name the kernel that faulted") + ")")
                + "; use --backend java to run without OpenCL", e);
    }

    /** Turns {@link #SYNC}'s finishing after every launch on or off for this device (tests). */
    void syncAfterEachLaunch(boolean on) { sync = on; }

    /** The name of the kernel launched last on this context, null before the first. */
    String lastKernel() { return lastKernel; }

    /** Waits until everything queued so far has run; errors name the last kernel. */
    void finish() {
        synchronized (this) {
            try {
                clFinish(queue);
            } catch (CLException e) {
                throw failure("waiting for the queue (clFinish)", e);
            }
        }
    }

    /** Sends everything queued so far to the device without waiting for it. */
    void flush() {
        synchronized (this) {
            try {
                clFlush(queue);
            } catch (CLException e) {
                throw failure("flushing the queue (clFlush)", e);
            }
        }
    }

    /** How this device computes a*b + c in kernels built with FP_CONTRACT OFF; see {@link #multiplyAdd}. */
    enum MultiplyAdd {
        /** Rounded after the multiply and after the add, as Java does: bit-exact comparisons with Java apply. */
        SEPARATE,
        /** Fused into one rounding (an fma) despite FP_CONTRACT OFF. */
        FUSED,
        /** Neither every time (some fused, some not). */
        MIXED
    }

    private MultiplyAdd multiplyAdd;

    /**
     * The start-up self-check of bit parity: the elementwise kernel {@code affine} (out = alpha * x +
     * beta, built with FP_CONTRACT OFF like every kernel the tests compare bit for bit) on 4,096
     * values where a fused multiply-add and two roundings differ, against Java's two roundings and
     * Math.fma. Some compilers fuse anyway; then the tests compare with a bound instead of bits.
     */
    synchronized MultiplyAdd multiplyAdd() {
        if (multiplyAdd != null) return multiplyAdd;
        int n = 4096;
        float[] x = new float[n], expected = new float[n], fused = new float[n], got = new float[n];
        float alpha = 1.0000001f * (float) Math.PI, beta = -0.7f;
        java.util.SplittableRandom random = new java.util.SplittableRandom(20);
        int differing = 0;
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 4 - 2);
            expected[i] = alpha * x[i] + beta;  // Java: the product rounds, then the sum
            fused[i] = Math.fma(alpha, x[i], beta);
            if (expected[i] != fused[i]) differing++;
        }
        cl_mem in = allocate((long) n * Sizeof.cl_float), out = allocate((long) n * Sizeof.cl_float);
        try {
            synchronized (this) {
                clEnqueueWriteBuffer(queue, in, CL_TRUE, 0, (long) n * Sizeof.cl_float, Pointer.to(x), 0, null, null);
            }
            call("affine").buffer(in).f(alpha).f(beta).buffer(out).i(n).run(n);
            synchronized (this) {
                clEnqueueReadBuffer(queue, out, CL_TRUE, 0, (long) n * Sizeof.cl_float, Pointer.to(got), 0, null, null);
            }
        } catch (CLException e) {
            throw failure("the multiply-add self-check", e);
        } finally {
            clReleaseMemObject(in);
            clReleaseMemObject(out);
        }
        int separate = 0, fusedCount = 0;
        for (int i = 0; i < n; i++) {
            if (Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(expected[i])) separate++;
            if (Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(fused[i])) fusedCount++;
        }
        if (differing == 0) throw new IllegalStateException("self-check values do not tell fused from separate");
        multiplyAdd = separate == n ? MultiplyAdd.SEPARATE : fusedCount == n ? MultiplyAdd.FUSED : MultiplyAdd.MIXED;
        return multiplyAdd;
    }

    /** Rounds n up to a multiple of step. */
    static long roundUp(long n, long step) { return (n + step - 1) / step * step; }
}
