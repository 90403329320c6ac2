package advtrain.bench;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Backends;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Objective;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Bytes a steady-state training step allocates, counted exactly: the JVM's per-thread allocation
 * counters of every thread (the caller and the backend's workers), read before and after rounds of
 * steps, with nothing else running in the JVM. JMH's gc profiler counts its own per-iteration
 * bookkeeping too (a few kilobytes per iteration, spread over the iteration's steps); this does not.
 * The first rounds include the JIT's warm-up (the Vector API allocates until C2 compiles a loop).
 *
 * <pre>usage: AllocationPerStep [--backend java|opencl] [--batch 32] [--objective plain|goodfellow] [--rounds 12] [--steps 2000]</pre>
 */
public final class AllocationPerStep {
    public static void main(String[] args) {
        int batch = 32, rounds = 12, steps = 2000;
        String objectiveName = "plain", backendName = "java";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--objective" -> objectiveName = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--backend" -> backendName = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend be = Backends.select(backendName, null).backend();
        Net net = new Net(be, 1);
        Sgd sgd = new Sgd(be, net.parameters(), 0.001f, 0.9f);
        Tape tape = new Tape(be);
        Tensor images = be.allocate(Shape.of(batch, 3, 32, 32)), labels = be.allocate(Shape.of(batch));
        be.uniform(images, 0f, 1f, 7);
        float[] classes = new float[batch];
        for (int i = 0; i < batch; i++) classes[i] = i % Net.CLASSES;
        be.write(labels, classes, 0);
        Objective objective = switch (objectiveName) {
            case "plain" -> Objective.standard();
            case "goodfellow" -> new AdversarialObjective(be, AdversarialTraining.fgsm(8f / 255f, 0.5f), 0);
            default -> throw new IllegalArgumentException("--objective plain or goodfellow, not " + objectiveName);
        };
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        System.out.printf(Locale.ROOT, "%s backend, batch %d, %s objective, %d steps a round%n", be.name(), batch, objectiveName, steps);
        for (int round = 0; round < rounds; round++) {
            long[] ids = threads.getAllThreadIds();
            long before = allocated(threads, ids);
            for (int s = 0; s < steps; s++) {
                net.zeroGrad(be);
                Objective.Step step = objective.loss(net, tape, tape.constant(images), tape.constant(labels));
                tape.backward(step.loss());
                sgd.step();
                tape.reset();
            }
            be.synchronize();
            System.out.printf(Locale.ROOT, "round %2d: %12.1f bytes/step%n", round, (allocated(threads, ids) - before) / (double) steps);
        }
        objective.close();
        tape.close();
        be.close();
    }

    /** Bytes allocated so far by these threads (a thread that has ended counts as 0 both times). */
    private static long allocated(com.sun.management.ThreadMXBean threads, long[] ids) {
        long sum = 0;
        for (long bytes : threads.getThreadAllocatedBytes(ids)) sum += Math.max(0, bytes);
        return sum;
    }
}
