/**
 * The OpenCL backend: the engine's kernels in OpenCL C ({@code src/main/resources/kernels/*.cl},
 * one file per family, each opening with how its work items are laid out), run through JOCL.
 *
 * <ul>
 *   <li>{@link advtrain.backend.opencl.OpenCl} finds platforms and devices and explains, in one line,
 *       a missing OpenCL library, driver or device; {@link advtrain.backend.opencl.LoaderCheck} lists, for
 *       {@code advtrain devices}, what the loader needs file by file (libOpenCL.so, the ICD files, NVIDIA's driver).</li>
 *   <li>{@code ClContext}: per device, a context, one in-order queue and every kernel file built once
 *       (a build failure carries the compiler's log); kernel launches; errors that name the last kernel
 *       launched; the multiply-add self-check that says whether kernels round like Java.</li>
 *   <li>{@code ClTransfers}: copies to and from the host; writes go through pinned staging memory
 *       without waiting for the device.</li>
 *   <li>{@link advtrain.backend.opencl.OpenClBackend}: the {@link advtrain.backend.Backend} methods as
 *       kernel launches on device buffers; only {@code write} and {@code read} copy to or from the host.</li>
 * </ul>
 *
 * <p>Environment: {@code ADVTRAIN_DEVICE=N} picks device N of {@code advtrain devices};
 * {@code ADVTRAIN_OPENCL_PROFILE=1} times every kernel on the device and prints a table at exit;
 * {@code ADVTRAIN_OPENCL_SYNC=1} (or {@code -Dadvtrain.opencl.sync=true}) finishes the queue after every
 * launch, so that a kernel that faults is named by the error it causes.
 * Choosing between this backend and the Java one ({@code --backend auto}, and its timing probe)
 * happens above, in {@link advtrain.backend.select}. Benchmarks: {@code benchmarks/run-jmh.sh --backend opencl} (or {@code opencl-tiled}, {@code opencl-rows},
 * {@code opencl-plain} for one version of the kernels); see {@code benchmarks/README.md}. The GPU check:
 * {@code benchmarks/gpu/run.sh}.
 */
package advtrain.backend.opencl;
