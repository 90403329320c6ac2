package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * ResNet-20's convolutions (3x3, padding 1, no bias), each timed alone: forward, input gradient,
 * weight gradient, in GFLOP/s (2 flops per multiply-add; the same count for each of the three).
 * benchmarks/resnet_convs.py times PyTorch's F.conv2d on the same shapes; the two print the same
 * table. On a busy machine read the "best" column: the fastest of the repetitions, the one least
 * disturbed by other work. With {@code --cpu-time} (run it with {@code -Dadvtrain.threads=1}, so the
 * kernels run on the calling thread) the times are that thread's CPU time: on a machine shared with
 * other work, a measure of the kernels' own speed on one core. With {@code --cold} each timed call
 * follows a pass that writes 64 MB elsewhere, so that it finds its operands in memory rather than
 * in cache, as in a training step, where every layer's activations pass through the caches in turn.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -XX:-UseLoopPredicate -cp ... advtrain.bench.ResNetConvs
 *        [--backend java|java-im2col|...|opencl] [--batch 128] [--reps 15] [--seconds 8 (warm-up)] [--cpu-time] [--cold]
 * </pre>
 */
public final class ResNetConvs {
    /** name, inChannels, outChannels, input size, stride: the six convolution shapes of ResNet-20. */
    static final Object[][] LAYERS = {
            {"conv1 3-16 32x32", 3, 16, 32, 1},
            {"layer1 16-16 32x32", 16, 16, 32, 1},
            {"layer2.0 16-32 s2", 16, 32, 32, 2},
            {"layer2 32-32 16x16", 32, 32, 16, 1},
            {"layer3.0 32-64 s2", 32, 64, 16, 2},
            {"layer3 64-64 8x8", 64, 64, 8, 1},
    };

    public static void main(String[] args) {
        String backendName = "java";
        int batch = 128, reps = 15;
        double warmSeconds = 8;
        boolean cpuTime = false, cold = false;
        for (int i = 0; i < args.length; i += 2) {
            if (args[i].equals("--cpu-time")) { cpuTime = true; i--; continue; }
            if (args[i].equals("--cold")) { cold = true; i--; continue; }
            switch (args[i]) {
                case "--backend" -> backendName = args[i + 1];
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--reps" -> reps = Integer.parseInt(args[i + 1]);
                case "--seconds" -> warmSeconds = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend be = KernelState.backend(backendName);
        System.out.println("backend " + be.name() + " (" + backendName + "), batch " + batch + (cpuTime ? ", CPU time of the calling thread" : "")
                + (cold ? ", caches flushed before each call" : "") + ", load average " + LoadAverage.now());
        List<Runnable[]> work = new ArrayList<>();
        List<Long> flops = new ArrayList<>();
        for (Object[] layer : LAYERS) {
            int c = (int) layer[1], k = (int) layer[2], h = (int) layer[3], stride = (int) layer[4], out = (h - 1) / stride + 1;
            Tensor x = KernelState.random(be, 1, -1, 1, batch, c, h, h), w = KernelState.random(be, 2, -0.1f, 0.1f, k, c, 3, 3);
            Tensor y = KernelState.random(be, 3, 0, 0, batch, k, out, out), dy = KernelState.random(be, 4, -1, 1, batch, k, out, out);
            Tensor dx = KernelState.random(be, 5, 0, 0, batch, c, h, h), dw = KernelState.random(be, 6, 0, 0, k, c, 3, 3);
            work.add(new Runnable[] {
                    () -> { be.conv2d(x, w, null, y, stride, 1); be.synchronize(); },
                    () -> { be.conv2dBackward(x, w, dy, dx, null, null, stride, 1); be.synchronize(); },
                    () -> { be.conv2dBackward(x, w, dy, null, dw, null, stride, 1); be.synchronize(); }});
            flops.add(2L * batch * k * out * out * c * 9);
        }
        float[] junk = cold ? new float[(64 << 20) / Float.BYTES] : null;
        long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
        while (System.nanoTime() < warmEnd) for (Runnable[] r : work) for (Runnable part : r) part.run();
        String[] parts = {"forward", "input grad", "weight grad"};
        double[] totalBest = new double[3];
        System.out.printf("%-20s %-12s %9s %9s %9s%n", "layer", "part", "best ms", "median ms", "GFLOP/s");
        for (int l = 0; l < LAYERS.length; l++) {
            for (int p = 0; p < 3; p++) {
                double[] ms = KernelState.sortedMs(cold ? () -> flush(junk) : null, work.get(l)[p], reps, cpuTime);
                totalBest[p] += ms[0];
                System.out.printf("%-20s %-12s %9.3f %9.3f %9.1f%n", LAYERS[l][0], parts[p], ms[0], ms[reps / 2], flops.get(l) / ms[0] / 1e6);
            }
        }
        System.out.printf("sum of best: forward %.2f ms, input grad %.2f ms, weight grad %.2f ms (one of each layer); load average %s%n",
                totalBest[0], totalBest[1], totalBest[2], LoadAverage.now());
        be.close();
    }

    /** Writes one float in every 64-byte line of junk: the caches then hold junk, not the last call's operands. */
    private static void flush(float[] junk) {
        for (int j = 0; j < junk.length; j += 16) junk[j] += 1f;
    }
}
