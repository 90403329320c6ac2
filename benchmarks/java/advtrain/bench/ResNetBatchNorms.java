package advtrain.bench;

import advtrain.backend.Backend;

/**
 * ResNet-20's batch normalisations in training mode ({@link BatchNormBench}'s three shapes at batch
 * 128), forward and backward, each timed alone: best and median milliseconds of the repetitions,
 * and G elements/s from the best. benchmarks/batchnorm_vs_pytorch.py prints the same table for
 * PyTorch. With {@code --cpu-time} (run with {@code -Dadvtrain.threads=1}, so the kernels run on the
 * calling thread) the times are that thread's CPU time: on a machine shared with other work, a
 * measure of the kernels' own speed on one core.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -XX:-UseLoopPredicate -Dadvtrain.threads=1 -cp ... advtrain.bench.ResNetBatchNorms
 *        [--backend java|opencl|reference] [--reps 21] [--seconds 5 (warm-up)] [--cpu-time]
 * </pre>
 */
public final class ResNetBatchNorms {
    public static void main(String[] args) {
        String backendName = "java";
        int reps = 21;
        double warmSeconds = 5;
        boolean cpuTime = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cpu-time" -> cpuTime = true;
                case "--backend" -> backendName = args[++i];
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seconds" -> warmSeconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend be = KernelState.backend(backendName);
        System.out.println("backend " + be.name() + " (" + be.deviceName() + ")" + (cpuTime ? ", CPU time of the calling thread" : "")
                + ", load average " + LoadAverage.now());
        BatchNormBench.Stage[] stages = {new BatchNormBench.Stage(be, 16, 32), new BatchNormBench.Stage(be, 32, 16),
                new BatchNormBench.Stage(be, 64, 8)};
        for (BatchNormBench.Stage s : stages) s.forward(be);
        long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
        while (System.nanoTime() < warmEnd) {
            for (BatchNormBench.Stage s : stages) {
                s.forward(be);
                s.backward(be);
                be.synchronize();
            }
        }
        System.out.printf("%-18s %-9s %8s %10s %14s%n", "shape", "part", "best ms", "median ms", "G elements/s");
        for (BatchNormBench.Stage s : stages) {
            for (int part = 0; part < 2; part++) {
                boolean forward = part == 0;
                double[] ms = KernelState.sortedMs(null, () -> {
                    if (forward) s.forward(be);
                    else s.backward(be);
                    be.synchronize();
                }, reps, cpuTime);
                System.out.printf("%-18s %-9s %8.3f %10.3f %14.2f%n", s.x.shape(), part == 0 ? "forward" : "backward",
                        ms[0], ms[reps / 2], s.x.size() / (ms[0] * 1e6));
            }
        }
        System.out.println("load average after " + LoadAverage.now());
        be.close();
    }
}
