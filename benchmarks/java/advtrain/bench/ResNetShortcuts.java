package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.FusedKernels;
import advtrain.tensor.Tensor;

/**
 * ResNet-20's two option-A shortcuts at batch 128 (16 to 32 channels on 32x32, 32 to 64 on 16x16),
 * forward and input gradient, each timed two ways: as the 1x1 stride-2 convolution by a 0/1 weight
 * that autograd.ShortcutA runs on backends without {@link FusedKernels}, and as the Java backend's
 * copy ({@link FusedKernels#shortcutA}). Best and median ms of the repetitions after a warm-up;
 * with {@code --cpu-time} (run with {@code -Dadvtrain.threads=1}) the calling thread's CPU time.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -XX:-UseLoopPredicate -Dadvtrain.threads=1 -cp ... advtrain.bench.ResNetShortcuts
 *        [--reps 21] [--seconds 4 (warm-up)] [--cpu-time]
 * </pre>
 */
public final class ResNetShortcuts {
    public static void main(String[] args) {
        int reps = 21;
        double warmSeconds = 4;
        boolean cpuTime = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cpu-time" -> cpuTime = true;
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seconds" -> warmSeconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend be = KernelState.backend("java");
        FusedKernels fused = (FusedKernels) be;
        System.out.println("backend " + be.name() + (cpuTime ? ", CPU time of the calling thread" : "") + ", load average " + LoadAverage.now());
        int batch = 128;
        int[][] shapes = {{16, 32, 32}, {32, 64, 16}};  // in channels, out channels, input size
        String[] names = {"convolution forward", "convolution input grad", "copy forward", "copy input grad"};
        System.out.printf("%-22s %-24s %9s %9s%n", "shortcut", "part", "best ms", "median ms");
        for (int[] s : shapes) {
            int c = s[0], k = s[1], h = s[2], out = h / 2, pad = (k - c) / 2;
            Tensor x = KernelState.random(be, 1, -1, 1, batch, c, h, h), w = be.allocate(advtrain.tensor.Shape.of(k, c, 1, 1));
            be.write(w, advtrain.autograd.ShortcutA.shiftedIdentity(c, pad), 0);
            Tensor y = KernelState.random(be, 2, 0, 0, batch, k, out, out), dy = KernelState.random(be, 3, -1, 1, batch, k, out, out);
            Tensor dx = KernelState.random(be, 4, 0, 0, batch, c, h, h);
            Runnable[] parts = {
                    () -> be.conv2d(x, w, null, y, 2, 0),
                    () -> be.conv2dBackward(x, w, dy, dx, null, null, 2, 0),
                    () -> fused.shortcutA(x, 2, pad, y),
                    () -> fused.shortcutABackward(dy, 2, pad, dx, false)};
            long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
            while (System.nanoTime() < warmEnd) for (Runnable part : parts) part.run();
            for (int p = 0; p < parts.length; p++) {
                double[] ms = KernelState.sortedMs(null, parts[p], reps, cpuTime);
                System.out.printf("%-22s %-24s %9.3f %9.3f%n", c + "-" + k + " " + h + "x" + h, names[p], ms[0], ms[reps / 2]);
            }
        }
        be.close();
    }
}
