/**
 * The tuned pure-Java backend: multithreaded ({@link advtrain.backend.cpu.Parallel}), register
 * blocked on Vector API micro-kernels ({@link advtrain.backend.cpu.Gemm}), with per-thread
 * workspaces so a steady-state training step allocates nothing. Every kernel computes what the
 * reference backend's plain loop nest computes; the tests compare the two kernel by kernel.
 *
 * <h2>A map of the convolution</h2>
 * {@link advtrain.backend.cpu.Conv} is the entry point; it asks
 * {@link advtrain.backend.cpu.ConvPlan} which algorithm each part runs, and the parts are
 * {@link advtrain.backend.cpu.ConvForward} (the output, optionally max-pooled on the fly),
 * {@link advtrain.backend.cpu.ConvWeightGradient} (weight and bias gradients) and
 * {@link advtrain.backend.cpu.ConvInputGradient}; {@link advtrain.backend.cpu.ConvShape} holds the
 * sizes and the two input layouts (padded rows, im2col). The paths, in short:
 * <ul>
 *   <li>WIDE_ROWS: the padded image's rows read at shifted offsets are the im2col matrix,
 *       without building it; the result has the padded width, a few columns of it wasted. With a
 *       stride, the padded image is split into phase planes (ConvShape), whose rows serve the same way.</li>
 *   <li>CHANNELS: a vector of output channels per pixel (two, with AVX-512, where the channels
 *       fill pairs of vectors), only real pixels; needs the output channels to fill whole vectors.
 *       A cell "CHANNELS (AVX2: ...)" is the two-vector tile, which AVX2's 16 vector registers
 *       cannot hold; its weight gradient walks the batch in chunks of images that stay in L2.</li>
 *   <li>ROW_TAPS: the weight gradient of 3x3 filters with one vector of output channels, each
 *       input value broadcast once for the three taps of its filter row (AVX-512).</li>
 *   <li>WIDE_ROWS_IN_GROUPS: the wide-row backward in 8 groups of images, each group's operands
 *       used while they are in a core's cache; it also runs those images' input gradients.</li>
 *   <li>WIDE_ROWS_BY_FILTER_ROW: the wide-row input gradient, one product per filter row over
 *       only the rows it reaches.</li>
 *   <li>LANES: the input gradient with VL images in a vector's lanes, only the products that
 *       reach the input.</li>
 *   <li>FLIPPED: the input gradient as a forward convolution of the output gradient with the
 *       filters transposed and flipped, on WIDE_ROWS or CHANNELS as the forward rule picks.</li>
 *   <li>WINOGRAD: 3x3 filters at stride 1 by minimal filtering, F(2x2, 3x3): 16 products per
 *       2x2 outputs and pair of channels instead of 36, with VL tiles in a vector's lanes
 *       ({@link advtrain.backend.cpu.Winograd}); the weight gradient the same way turned around,
 *       summed over every tile of the batch, with channels in the lanes
 *       ({@link advtrain.backend.cpu.WinogradWeightGradient}).</li>
 *   <li>IM2COL / COL2IM: any stride; COL2IM is the only input gradient for strides above 1 (at
 *       stride 2, where the output's rows are whole or half vectors, its scatter runs by phase planes).</li>
 * </ul>
 *
 * <h2>Which layer takes which path</h2>
 * With 16-float vectors (AVX-512) and any number of threads: no rule looks at the thread count
 * (the rules were measured on 2 threads). 8-float vectors (AVX2) give the same convolution rows but
 * where a cell says otherwise; there fc2's 120 inputs are whole vectors. The convolution rows are what ConvPlan computes, for
 * both vector lengths; ConvPlanTableTest fails if they disagree.
 *
 * <table>
 * <caption>Paths of the seed's layers by batch size</caption>
 * <tr><th>layer</th><th>batch</th><th>forward</th><th>weight gradient</th><th>input gradient</th><th>why</th></tr>
 * <tr><td>conv1</td><td>4</td><td>WIDE_ROWS</td><td>WIDE_ROWS</td><td>WIDE_ROWS</td>
 *     <td>6 output channels fill no vector (no CHANNELS); 4 images' operands (135 KB) fit in cache;
 *     3 input channels fill no LANES tile; by filter row would skip only 4 of 32 rows</td></tr>
 * <tr><td>conv1</td><td>32</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>WIDE_ROWS, in the groups</td>
 *     <td>the batch's padded inputs and wide gradients, 1.08 MB, outgrow a core's 1 MB L2: groups
 *     (164-192 against 216-236 µs); the input gradient (attacks only: conv1's input is the image)
 *     runs in the same groups</td></tr>
 * <tr><td>conv1</td><td>256</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>WIDE_ROWS, in the groups</td>
 *     <td>as at batch 32, with 8.7 MB of operands</td></tr>
 * <tr><td>conv2</td><td>4</td><td>CHANNELS</td><td>CHANNELS</td><td>WIDE_ROWS_BY_FILTER_ROW</td>
 *     <td>16 output channels fill a vector: only real pixels (the wide rows waste 4 of every 14
 *     columns); 4 images fill no lanes; by filter row skips 4 of 14 rows (398-429 → 353-366 µs at
 *     batch 32)</td></tr>
 * <tr><td>conv2</td><td>32</td><td>CHANNELS</td><td>CHANNELS</td><td>LANES</td>
 *     <td>operands 0.45 MB fit in cache, so no groups; 32 images fill the lanes and 6 input
 *     channels the tile: only the products that reach the input (by filter row did 1.44x as many)</td></tr>
 * <tr><td>conv2</td><td>256</td><td>CHANNELS</td><td>WIDE_ROWS_IN_GROUPS</td><td>LANES</td>
 *     <td>operands 3.6 MB outgrow the cache: groups (the rule; conv2 was measured in groups only at
 *     batch 32, where they lost); the input gradient as at batch 32</td></tr>
 * <tr><td>pool1, pool2</td><td>all</td><td>fused into conv1's and conv2's forward</td><td>none</td>
 *     <td>Pool's 2x2 loop, writing every element</td>
 *     <td>each image is pooled while its convolution output is in cache (pool2 straight from
 *     CHANNELS' pixel-major tile, three vector max per window); at inference the convolution's
 *     output is never stored. The 2x2 stride-2 windows tile 28 and 10 exactly, so the backward
 *     writes the input gradient in one pass, without zero-filling it first</td></tr>
 * <tr><td>fc1</td><td>all</td><td>Gemm</td><td>Gemm</td><td>Gemm</td>
 *     <td>Linear: 400 inputs are whole vectors, the operands are used in place</td></tr>
 * <tr><td>fc2, fc3</td><td>all</td><td>Gemm, padded</td><td>Gemm, padded</td><td>Gemm, padded</td>
 *     <td>120 and 84 inputs are not whole vectors: rows copied zero-padded to 128 and 96, so the
 *     micro-kernels never meet a partial vector</td></tr>
 * </table>
 *
 * <table>
 * <caption>Paths of ResNet-20's convolutions (3x3, padding 1, no bias; the option-A shortcut as a 1x1
 * stride-2 convolution) at the training and inference batches</caption>
 * <tr><th>layer</th><th>batch</th><th>forward</th><th>weight gradient</th><th>input gradient</th><th>why</th></tr>
 * <tr><td>resnet20 conv1</td><td>128</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>WIDE_ROWS, in the groups</td>
 *     <td>wide rows waste 2 of 34 columns: 1.6 ms against 7.0 by channels (batch 128, one thread);
 *     3 input channels fill no vector (no FLIPPED) and no LANES tile</td></tr>
 * <tr><td>resnet20 conv1</td><td>256</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>WIDE_ROWS, in the groups</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 layer1</td><td>128</td><td>WINOGRAD (AVX2: WIDE_ROWS)</td><td>ROW_TAPS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>FLIPPED</td>
 *     <td>16-16 on 32x32: forward 4.1-4.3 ms by WINOGRAD against 4.4 by wide rows (earlier, at load
 *     14-18: 6.3-6.5 by wide rows against 11.4 by channels); input gradient flipped on WINOGRAD
 *     3.7-4.5 against 4.4-4.6 (at load 14-18: 17.5 ms by LANES, 12.4 flipped by channels, 7.8
 *     flipped by wide rows); weight gradient by
 *     filter rows (ROW_TAPS) 5.6 ms against 7.45 in groups (load 1-2); at load 14-18, in groups 9.6
 *     against 11.1 by channels and 18.0 by wide rows over the whole batch</td></tr>
 * <tr><td>resnet20 layer1</td><td>256</td><td>WINOGRAD (AVX2: WIDE_ROWS)</td><td>ROW_TAPS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>FLIPPED</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 layer2.0.conv1</td><td>128</td><td>CHANNELS (AVX2: WIDE_ROWS)</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>COL2IM</td>
 *     <td>stride 2: phase planes of 17 columns, 1 wasted; forward by channels' two-vector tile 65
 *     GFLOP/s against 70 by wide rows (load 2-3; kept for one rule); weight gradient by channels'
 *     two-vector tile in chunks of images 4.7 ms (load 1); before it, 8.6 ms in groups against
 *     17.5 by wide rows over the whole batch; by im2col, the only stride-2 path before, 7.2-9.4 ms
 *     at batch 64 against 3.7-4.0 in groups</td></tr>
 * <tr><td>resnet20 layer2.0.conv1</td><td>256</td><td>CHANNELS (AVX2: WIDE_ROWS)</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>COL2IM</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 layer2</td><td>128</td><td>WINOGRAD</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>FLIPPED</td>
 *     <td>32-32 on 16x16: forward 3.3-3.5 ms by WINOGRAD against 4.2-4.3 by channels' two-vector
 *     tile (140 GFLOP/s; 139 by wide rows, which waste 2 of 18 columns; one vector of channels:
 *     8.0 ms against 6.6 by wide rows); the flipped input gradient 3.4-3.8 against 4.4; weight gradient
 *     4.4 ms by the two-vector tile, 8.4 in groups</td></tr>
 * <tr><td>resnet20 layer2</td><td>256</td><td>WINOGRAD</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>FLIPPED</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 layer3.0.conv1</td><td>128</td><td>CHANNELS (AVX2: WIDE_ROWS)</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>COL2IM</td>
 *     <td>stride 2, phase planes of 9 columns: forward 85 GFLOP/s by channels' two-vector tile, 66
 *     by wide rows; weight gradient 3.6 ms by the two-vector tile (6.6 in groups, load 2-3); before, 7.9 ms in
 *     groups against 10.5 by wide rows; by im2col 5.2-6.9 ms at batch 64 against 3.5-3.9 in groups</td></tr>
 * <tr><td>resnet20 layer3.0.conv1</td><td>256</td><td>CHANNELS (AVX2: WIDE_ROWS)</td><td>CHANNELS (AVX2: WIDE_ROWS_IN_GROUPS)</td><td>COL2IM</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 layer3</td><td>128</td><td>WINOGRAD</td><td>WINOGRAD</td><td>FLIPPED</td>
 *     <td>64-64 on 8x8: forward 2.7-3.0 ms by WINOGRAD against 4.2 by channels' two-vector tile
 *     (142 GFLOP/s; 100 by wide rows, which waste 2 of 10 columns); the flipped input gradient
 *     2.9-3.2 against 4.3-4.4 (by the tile: 135 GFLOP/s against 92 by wide rows); weight
 *     gradient 3.7-4.0 ms by WINOGRAD against 4.6-4.9 by the two-vector tile (earlier, 4.4 by the
 *     tile against 10.2 in groups); on layer1 and layer2 the WINOGRAD weight gradient lost (see
 *     ConvPlan.weightGradient)</td></tr>
 * <tr><td>resnet20 layer3</td><td>256</td><td>WINOGRAD</td><td>WINOGRAD</td><td>FLIPPED</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 shortcut 16-32</td><td>128</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>COL2IM</td>
 *     <td>option A's subsampling as a 1x1 stride-2 convolution whose weight needs no gradient, as the
 *     reference and OpenCL backends run it; this backend copies instead (Shortcut, FusedKernels.shortcutA)</td></tr>
 * <tr><td>resnet20 shortcut 16-32</td><td>256</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>COL2IM</td>
 *     <td>as at batch 128</td></tr>
 * <tr><td>resnet20 shortcut 32-64</td><td>128</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>COL2IM</td>
 *     <td>as the other shortcut</td></tr>
 * <tr><td>resnet20 shortcut 32-64</td><td>256</td><td>WIDE_ROWS</td><td>WIDE_ROWS_IN_GROUPS</td><td>COL2IM</td>
 *     <td>as at batch 128</td></tr>
 * </table>
 *
 * <p>The ResNet-20 figures are CPU times of one thread at batch 128, in ms at a load average of
 * 14-18 on the 2 cores, in GFLOP/s at 2-3 (the two-vector tile's comparisons): {@code java -Dadvtrain.threads=1 ... advtrain.bench.ResNetConvs
 * --cpu-time --batch 128 [--backend java-channels|java-direct|java-im2col]}
 * (benchmarks/java/advtrain/bench/ResNetConvs.java).
 *
 * <p>Measured figures and how to take them: docs/PERFORMANCE.md.
 */
package advtrain.backend.cpu;
