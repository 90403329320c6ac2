/**
 * The kernels, in layers; imports point down this list only (PackageDependenciesTest checks it).
 *
 * <ol>
 *   <li>{@link advtrain.backend.Backend}: the contract, one method per kernel (forward and
 *       backward), 30 in all, with the conventions every implementation keeps; beside it the shape
 *       checks ({@code Checks}, {@code ConvGeometry}, {@code PoolGeometry}), the counter-based
 *       random numbers ({@code Rng}) and {@code Tensors} (host arrays in and out).</li>
 *   <li>Optional capabilities a backend may add for speed: {@link advtrain.backend.FusedKernels}
 *       (convolution and pooling in one pass; at inference a convolution with its batch norm,
 *       residual sum and ReLU; gradients written rather than added to zeros) and
 *       {@link advtrain.backend.OptimizerKernels} (an SGD update in one kernel). The engine asks
 *       {@code backend instanceof FusedKernels} and otherwise runs the plain kernels, with the
 *       same results.</li>
 *   <li>{@link advtrain.backend.reference}: the definition, one plain loop nest per kernel on one
 *       thread; what a student reads and what every other backend is tested against.</li>
 *   <li>{@link advtrain.backend.cpu}: the tuned Java backend. It extends the reference, replaces
 *       the kernels a step spends its time in (blocked, vectorised, multithreaded) and offers both
 *       capabilities.</li>
 *   <li>{@link advtrain.backend.opencl}: OpenCL C kernels through JOCL, tensors in device
 *       buffers; offers {@code OptimizerKernels}.</li>
 *   <li>{@link advtrain.backend.select}: choosing one ({@code --backend auto|java|opencl|reference}),
 *       above all of them, so this package imports none of its implementations.</li>
 * </ol>
 */
package advtrain.backend;
