package advtrain.cli;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.attack.TrainedModels;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.data.Dataset;
import advtrain.nn.Net;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.IdentityHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The attack command's PGD pass and its FGSM sanity check need no more memory together than the
 * PGD pass alone: the PGD attack's buffers (its tape's pool, with a set of activations and
 * gradients per batch shape) are given back before FGSM makes its own. Holding both ran a
 * ResNet-20 on 500 test images (batches of 256 and 244) out of a 5 GB heap.
 */
class AttackMemoryTest {
    static final int IMAGES = 48, BATCH = 32;  // a short last batch: two batch shapes, as with --limit-test 500

    /** The reference backend, counting the floats of the tensors allocated and not yet released. */
    static final class LiveFloats extends ReferenceBackend {
        private final Map<Tensor, Integer> live = new IdentityHashMap<>();
        private long now, peak;

        @Override public Tensor allocate(Shape shape) {
            Tensor t = super.allocate(shape);
            live.put(t, shape.size());
            now += shape.size();
            peak = Math.max(peak, now);
            return t;
        }

        @Override public void release(Tensor tensor) {
            Integer size = live.remove(tensor);
            if (size != null) now -= size;
            super.release(tensor);
        }
    }

    /** The most floats alive at once during the command's attack, with or without the FGSM check. */
    private static long peak(boolean checkAgainstFgsm) throws Exception {
        LiveFloats backend = new LiveFloats();
        Net net = new Net(backend, 7);
        net.eval();
        Dataset test = TrainedModels.testSet(IMAGES);
        AttackConfig pgd = AttackConfig.pgd(8 / 255f).withSteps(2).withRandomStart(true);
        try (RobustnessEvaluator evaluator = new RobustnessEvaluator(backend, net, test, BATCH, Net.CLASSES, true)) {
            AttackResult result = AttackCommand.attackAndCheck(backend, evaluator, pgd, BATCH, net, checkAgainstFgsm);
            assertEquals(IMAGES, result.n());
        }
        return backend.peak;
    }

    @Test
    void theFgsmCheckNeedsNoMoreMemoryThanThePgdPass() throws Exception {
        long alone = peak(false), withCheck = peak(true);
        assertTrue(alone > 0);
        assertEquals(alone, withCheck, "floats alive at the peak: PGD alone " + alone + ", PGD then FGSM " + withCheck);
    }
}
