package advtrain.bench;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.backend.select.Backends;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.nn.Architectures;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Trainer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The advtrain half of the side-by-side benchmark (benchmarks/vs_pytorch.sh): times the same
 * workloads as benchmarks/torch_workloads.py defines for PyTorch and prints one JSON object, for
 * benchmarks/vs_pytorch.py's report.
 *
 * <p>Workloads (keep in step with torch_workloads.py), all on the seed's Net with random images in
 * [0, 1] of CIFAR shape and random labels:
 * <ul>
 *   <li>train-b32, train-b4: one SGD step (lr 0.001, momentum 0.9): zero the gradients, forward,
 *       NLL loss (mean), backward, update.</li>
 *   <li>infer-b256: forward alone, in a no-grad scope.</li>
 *   <li>inputgrad-b256: forward, loss, backward to the input alone (every parameter frozen with
 *       setRequiresGrad(false)): FGSM's cost.</li>
 *   <li>fgsm-b256, pgd10-b256: the library's attacks ({@link Attack}) at ε = 8/255, L∞: FGSM (the
 *       seed's Eq. 1), and PGD (Eq. 2) with 10 steps of ε/4 from the clean image, projecting and
 *       clipping after every step.</li>
 *   <li>goodfellow-epoch: one epoch of the seed's Eq. 3 (FGSM at ε = 8/255, mix 0.5) over 50,000
 *       random byte images at batch 32, through the library's {@link Trainer}: shuffling, the
 *       bytes-to-floats batch fill, the attack, both losses, backward, SGD.</li>
 * </ul>
 * and on ResNet-20 ({@code Architectures.build("resnet20")}, tools/resnet_cifar.py's network in
 * PyTorch), with SGD at lr 0.01, momentum 0.9 and weight decay 5e-4:
 * <ul>
 *   <li>resnet20-train-b128: one training step at batch 128 (batch norm on the batch's statistics).</li>
 *   <li>resnet20-infer-b256: forward alone in evaluation mode (running statistics), no-grad scope.</li>
 *   <li>resnet20-fgsmrs-epoch: one epoch of Wong et al.'s FGSM-RS training over {@value #FGSM_RS_IMAGES}
 *       random byte images at batch 128 through the {@link Trainer}: a random start in the ε-box, one
 *       step of 1.25·ε, projected and clipped, the adversarial loss alone (mix 0), the model in
 *       training mode throughout.</li>
 * </ul>
 * A workload is a name, the images one call handles, and a setup that returns the call.
 *
 * <pre>usage: SideBySide [--backend auto|java|opencl] [--repeats 5] [--seconds 1.0] [--workloads a,b|all]
 *        SideBySide [--backend ...] --serve</pre>
 *
 * With {@code --serve} it times nothing on its own: it takes commands, one per line on standard
 * input, from the paired driver ({@code vs_pytorch.py paired}), which interleaves its timed windows
 * with PyTorch's so that both engines are measured under the same machine conditions (see
 * {@link #serve}).
 */
public final class SideBySide {

    /** A timed workload: `images` per call of the Runnable that `setup` returns. */
    record Workload(int images, Function<Backend, Runnable> setup) {}

    /** ε of the attack workloads and of the Goodfellow epoch: 8/255, the usual CIFAR-10 budget. */
    static final float EPS = 8f / 255f;
    /** Images in the Goodfellow epoch: CIFAR-10's training set size. */
    static final int EPOCH_IMAGES = 50_000;
    /** Images in the ResNet-20 FGSM-RS epoch: 10 batches of 128, so one epoch (a window) stays well under a minute on 2 cores. */
    static final int FGSM_RS_IMAGES = 1280;
    static final String RESNET = "resnet20";

    static final Map<String, Workload> WORKLOADS = new LinkedHashMap<>();

    static {
        WORKLOADS.put("train-b32", new Workload(32, be -> train(be, 32)));
        WORKLOADS.put("train-b4", new Workload(4, be -> train(be, 4)));
        WORKLOADS.put("infer-b256", new Workload(256, be -> infer(be, 256)));
        WORKLOADS.put("inputgrad-b256", new Workload(256, be -> inputGrad(be, 256)));
        WORKLOADS.put("fgsm-b256", new Workload(256, be -> attack(be, 256, AttackConfig.fgsm(EPS))));
        WORKLOADS.put("pgd10-b256", new Workload(256, be -> attack(be, 256, AttackConfig.pgd(EPS))));
        WORKLOADS.put("goodfellow-epoch", new Workload(EPOCH_IMAGES, SideBySide::goodfellowEpoch));
        WORKLOADS.put("resnet20-train-b128", new Workload(128, be -> train(be, RESNET, 128)));
        WORKLOADS.put("resnet20-infer-b256", new Workload(256, be -> infer(be, RESNET, 256)));
        WORKLOADS.put("resnet20-fgsmrs-epoch", new Workload(FGSM_RS_IMAGES, SideBySide::fgsmRsEpoch));
    }


    private SideBySide() {}

    /** Random images in [0, 1] and labels in [0, 10), the same for every workload of a size. */
    static Tensor[] data(Backend be, int batch) {
        SplittableRandom random = new SplittableRandom(2);
        float[] x = new float[batch * 3 * 32 * 32], y = new float[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        for (int i = 0; i < batch; i++) y[i] = random.nextInt(10);
        return new Tensor[] {Tensors.fromArray(be, x, batch, 3, 32, 32), Tensors.fromArray(be, y, batch)};
    }

    static Runnable train(Backend be, int batch) { return train(be, Architectures.LENET, batch); }

    /** The seed's Net at the seed's SGD (lr 0.001, momentum 0.9); a ResNet at lr 0.01, momentum 0.9, weight decay 5e-4. */
    static Sgd sgd(Backend be, String arch, Module net) {
        return arch.equals(Architectures.LENET) ? new Sgd(be, net.parameters(), 0.001f, 0.9f)
                : new Sgd(be, net.parameters(), 0.01f, 0.9f, 5e-4f);
    }

    static Runnable train(Backend be, String arch, int batch) {
        Module net = Architectures.build(arch, be, 1);
        Sgd sgd = sgd(be, arch, net);
        Tape tape = new Tape(be);
        Tensor[] xy = data(be, batch);
        return () -> {
            net.zeroGrad(be);
            Variable loss = Ops.nllLoss(net.forward(tape.input(xy[0], false)), tape.constant(xy[1]));
            tape.backward(loss);
            sgd.step();
            tape.reset();
            be.synchronize();
        };
    }

    static Runnable infer(Backend be, int batch) { return infer(be, Architectures.LENET, batch); }

    static Runnable infer(Backend be, String arch, int batch) {
        Module net = Architectures.build(arch, be, 1);
        net.eval();
        Tape tape = new Tape(be);
        Tensor[] xy = data(be, batch);
        return () -> {
            try (Tape.NoGrad scope = tape.noGrad()) {
                net.forward(tape.input(xy[0], false));
            }
            tape.reset();
            be.synchronize();
        };
    }

    static Runnable inputGrad(Backend be, int batch) {
        Net net = new Net(be, 1);
        net.eval();
        for (Variable p : net.parameters()) p.setRequiresGrad(false);
        Tape tape = new Tape(be);
        Tensor[] xy = data(be, batch);
        return () -> {
            Variable input = tape.input(xy[0], true);
            tape.backward(Ops.nllLoss(net.forward(input), tape.constant(xy[1])));
            if (input.grad() == null) throw new IllegalStateException("no input gradient");
            tape.reset();
            be.synchronize();
        };
    }

    static Runnable attack(Backend be, int batch, AttackConfig config) {
        Net net = new Net(be, 1);
        Attack attack = Attack.create(be, config);
        Tensor[] xy = data(be, batch);
        return () -> {
            attack.perturb(net, xy[0], xy[1]);
            be.synchronize();
        };
    }

    /** One epoch of Eq. 3 per call; each call is the next epoch (a new shuffle). */
    static Runnable goodfellowEpoch(Backend be) {
        SplittableRandom random = new SplittableRandom(3);
        byte[] pixels = new byte[EPOCH_IMAGES * Dataset.IMAGE_BYTES], labels = new byte[EPOCH_IMAGES];
        random.nextBytes(pixels);
        for (int i = 0; i < EPOCH_IMAGES; i++) labels[i] = (byte) random.nextInt(10);
        BatchLoader loader = new BatchLoader(new Dataset(pixels, labels, EPOCH_IMAGES), 32, true, false, 0);
        Net net = new Net(be, 1);
        Trainer trainer = new Trainer(be, net, new Sgd(be, net.parameters(), 0.001f, 0.9f),
                new AdversarialObjective(be, AdversarialTraining.fgsm(EPS, 0.5f), 0));
        int[] epoch = {0};
        return () -> trainer.trainEpoch(loader, epoch[0]++, null);  // ends with a read of the epoch's loss
    }

    /** One epoch of Wong et al.'s FGSM-RS training of ResNet-20 per call; each call is the next epoch (a new shuffle). */
    static Runnable fgsmRsEpoch(Backend be) {
        SplittableRandom random = new SplittableRandom(3);
        byte[] pixels = new byte[FGSM_RS_IMAGES * Dataset.IMAGE_BYTES], labels = new byte[FGSM_RS_IMAGES];
        random.nextBytes(pixels);
        for (int i = 0; i < FGSM_RS_IMAGES; i++) labels[i] = (byte) random.nextInt(10);
        BatchLoader loader = new BatchLoader(new Dataset(pixels, labels, FGSM_RS_IMAGES), 128, true, false, 0);
        Module net = Architectures.build(RESNET, be, 1);
        AdversarialTraining wong = AdversarialTraining.of(AdversarialTraining.Method.FGSM_RS, EPS, 0f, null, null);
        Trainer trainer = new Trainer(be, net, sgd(be, RESNET, net), new AdversarialObjective(be, wong, 0));
        int[] epoch = {0};
        return () -> trainer.trainEpoch(loader, epoch[0]++, null);  // ends with a read of the epoch's loss
    }

    public static void main(String[] args) throws IOException {
        String backendName = "auto", which = "all";
        int repeats = 5;
        double seconds = 1.0;
        boolean serve = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--serve" -> serve = true;
                case "--backend" -> backendName = args[++i];
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--workloads" -> which = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: SideBySide [--backend auto|java|opencl] [--repeats N] [--seconds S] [--workloads a,b|all]");
            }
        }
        Backend be = backendName.startsWith("java-") ? KernelState.backend(backendName)
                : Backends.select(backendName, null).backend();
        if (serve) {
            serve(be);
            be.close();
            return;
        }
        List<String> names = which.equals("all") ? new ArrayList<>(WORKLOADS.keySet()) : Arrays.asList(which.split(","));
        StringBuilder json = new StringBuilder();
        json.append(String.format(Locale.ROOT, "{\"engine\": \"advtrain %s (%s)\", \"load_average\": \"%s\", \"workloads\": {",
                be.name(), be.deviceName(), LoadAverage.now()));
        String sep = "";
        for (String name : names) {
            Workload w = WORKLOADS.get(name);
            if (w == null) throw new IllegalArgumentException("no workload '" + name + "'; have " + WORKLOADS.keySet());
            Runnable step = w.setup().apply(be);
            double[] rates = time(step, w.images(), repeats, seconds);
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
            System.err.printf(Locale.ROOT, "advtrain %-16s %10.0f images/s (median of %d)%s%n", name, median, repeats,
                    be instanceof advtrain.backend.cpu.CpuBackend ? "; thread pool: " + advtrain.backend.cpu.Parallel.stats() : "");
            json.append(sep).append(String.format(Locale.ROOT, "\"%s\": {\"images_per_second\": %.1f, \"repeats\": %s}",
                    name, median, Arrays.toString(rates)));
            sep = ", ";
        }
        json.append("}}");
        System.out.println(json);
        be.close();
    }

    /**
     * Warm-up, then `repeats` timed windows of about `seconds` each (at least one call): images/s
     * per window. The warm-up lasts at least WARM_UP_SECONDS and 300 calls (Vector API code runs a
     * hundred times slower until C2 has compiled it, and with both cores busy the compiler threads
     * wait for one: training at batch 32 measured 10,800 images/s for its first 4 s, then 17,000 to
     * 19,000 once C2 had caught up; a 3 s warm-up had measured the slow phase), and until two windows
     * in a row agree within 10 %. A workload whose calls are long (an epoch) is warm after 2 calls
     * and 20 s: thousands of steps have run by then.
     */
    static final double WARM_UP_SECONDS = 10;

    static double[] time(Runnable step, int images, int repeats, double seconds) {
        long perWindow = Math.max(1, (long) (warmUp(step) * seconds));
        double[] rates = new double[repeats];
        for (int r = 0; r < repeats; r++) rates[r] = window(step, images, perWindow);
        return rates;
    }

    /**
     * The paired mode's command loop. Commands, one per line; each answer is one line on standard
     * output:
     * <ul>
     *   <li>{@code setup NAME}: builds workload NAME and warms it up as {@link #time} does; answers
     *       {@code ready IMAGES CALLS_PER_SECOND} (the warm-up's last rate).</li>
     *   <li>{@code run N}: runs the workload N times; answers the seconds it took.</li>
     * </ul>
     * Between commands the process only waits on its input (the thread pool's workers sleep after
     * 200 µs), so it leaves the machine to the other engine's window. Ends at end of input.
     */
    static void serve(Backend be) throws IOException {
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Runnable step = null;
        for (String line; (line = commands.readLine()) != null; ) {
            String[] word = line.trim().split("\\s+");
            if (word[0].equals("setup") && word.length == 2) {
                Workload w = WORKLOADS.get(word[1]);
                if (w == null) throw new IllegalArgumentException("no workload '" + word[1] + "'; have " + WORKLOADS.keySet());
                step = w.setup().apply(be);
                double rate = warmUp(step);
                System.out.printf(Locale.ROOT, "ready %d %.3f%n", w.images(), rate);
            } else if (word[0].equals("run") && word.length == 2 && step != null) {
                System.out.printf(Locale.ROOT, "%.6f%n", seconds(step, Long.parseLong(word[1])));
            } else {
                throw new IllegalArgumentException("SideBySide --serve: bad command '" + line + "' (setup NAME, then run N)");
            }
            System.out.flush();
        }
    }

    /**
     * The warm-up (see WARM_UP_SECONDS), then windows of about a second until two in a row agree
     * within 10 %; returns the last window's calls per second (the warm-up's mean for long calls).
     */
    static double warmUp(Runnable step) {
        long calls = 0, start = System.nanoTime();
        while (true) {
            step.run();
            calls++;
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (calls >= 300 ? elapsed >= WARM_UP_SECONDS : calls >= 2 && elapsed >= 20) break;
        }
        double callsPerSecond = calls / ((System.nanoTime() - start) / 1e9), previous = 0;
        for (int settle = 0; settle < 20 && calls >= 300; settle++) {
            long perWindow = Math.max(1, (long) callsPerSecond);
            callsPerSecond = perWindow / seconds(step, perWindow);
            if (Math.abs(callsPerSecond - previous) < 0.1 * callsPerSecond) break;
            previous = callsPerSecond;
        }
        return callsPerSecond;
    }

    private static double window(Runnable step, int images, long calls) { return images * calls / seconds(step, calls); }

    /** Seconds that `calls` calls of step take. */
    private static double seconds(Runnable step, long calls) {
        long t0 = System.nanoTime();
        for (long i = 0; i < calls; i++) step.run();
        return (System.nanoTime() - t0) / 1e9;
    }
}
