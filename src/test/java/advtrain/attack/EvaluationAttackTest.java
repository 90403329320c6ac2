package advtrain.attack;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.nn.Net;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** APGD, Square and AutoAttack on the small trained model and the first real CIFAR-10 test images. */
class EvaluationAttackTest {

    private static float[][] batch(int n) throws Exception {
        Dataset test = TrainedModels.testSet(n);
        BatchLoader loader = new BatchLoader(test, n, false, false, 0);
        loader.startEpoch(0);
        float[] images = new float[n * Dataset.IMAGE_BYTES], labels = new float[n];
        loader.fill(0, images, labels);
        return new float[][] {images, labels};
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void everyAttackStaysWithinTheBallAndThePixelRange(String name) throws Exception {
        Backend be = TestBackends.get(name);
        Net net = TrainedModels.net(be);
        int count = 12;
        float[][] b = batch(count);
        Tensor x = Tensors.fromArray(be, b[0], count, 3, 32, 32), y = Tensors.fromArray(be, b[1], count);
        List<AttackConfig> configs = List.of(
                AttackConfig.of(AttackConfig.Kind.APGD_CE, 0.03f).withSteps(8),
                AttackConfig.of(AttackConfig.Kind.APGD_DLR, 0.3f).withSteps(5),
                AttackConfig.of(AttackConfig.Kind.APGD_T, 0.02f).withSteps(4),
                AttackConfig.of(AttackConfig.Kind.APGD_CE, 0.5f).withNorm(Norm.L2).withSteps(6).withRestarts(2),
                AttackConfig.of(AttackConfig.Kind.SQUARE, 0.05f).withQueries(60),
                AttackConfig.of(AttackConfig.Kind.AUTOATTACK, 0.03f).withSteps(5).withQueries(30));
        int pixels = Dataset.IMAGE_BYTES;
        for (AttackConfig config : configs) {
            float[] adv;
            try (Attack attack = Attack.create(be, config, 5)) {   // batches of 5: chunks of 5, 5 and 2
                adv = Tensors.toArray(be, attack.perturb(net, x, y));
            }
            for (int n = 0; n < count; n++) {
                double sumSquares = 0, maxAbs = 0;
                for (int i = n * pixels; i < (n + 1) * pixels; i++) {
                    assertTrue(adv[i] >= 0f && adv[i] <= 1f, config.describe() + ": pixel " + i + " = " + adv[i]);
                    double d = adv[i] - b[0][i];
                    sumSquares += d * d;
                    maxAbs = Math.max(maxAbs, Math.abs(d));
                }
                if (config.norm() == Norm.LINF) assertTrue(maxAbs <= config.eps() + 1e-6, config.describe() + ": moved " + maxAbs);
                else assertTrue(Math.sqrt(sumSquares) <= config.eps() * (1 + 1e-5), config.describe() + ": L2 " + Math.sqrt(sumSquares));
            }
        }
    }

    /** A backend that counts the calls of every method whose name contains "Backward", and passes all calls on. */
    private static Backend countingBackwards(Backend inner, AtomicInteger backwards) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            if (method.getName().contains("Backward")) backwards.incrementAndGet();
            try {
                return method.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test
    void squareNeverComputesAGradientButApgdDoes() throws Exception {
        AtomicInteger backwards = new AtomicInteger();
        Backend be = countingBackwards(TestBackends.get("java"), backwards);
        Net net = TrainedModels.net(be);
        int count = 8;
        float[][] b = batch(count);
        Tensor x = Tensors.fromArray(be, b[0], count, 3, 32, 32), y = Tensors.fromArray(be, b[1], count);
        try (Attack square = Attack.create(be, AttackConfig.of(AttackConfig.Kind.SQUARE, 0.03f).withQueries(40), 8)) {
            square.perturb(net, x, y);
            int[] queries = ((HostAttack) square).lastQueries();
            assertEquals(count, queries.length);
            for (int q : queries) assertTrue(q >= 1 && q <= 40, "queries " + q);
        }
        assertEquals(0, backwards.get(), "Square called a backward kernel");
        try (Attack apgd = Attack.create(be, AttackConfig.of(AttackConfig.Kind.APGD_CE, 0.03f).withSteps(2), 8)) {
            apgd.perturb(net, x, y);
        }
        assertTrue(backwards.get() > 0, "the counter sees APGD's backward kernels");
    }

    /** APGD-CE at 100 iterations leaves no more images right than PGD-100 at the same ε. */
    @Test
    void apgdIsAtLeastAsStrongAsPgdWithAsManySteps() throws Exception {
        Backend be = TestBackends.get("java");
        Net net = TrainedModels.net(be);
        try (RobustnessEvaluator eval = new RobustnessEvaluator(be, net, TrainedModels.testSet(40), 40, Net.CLASSES, true)) {
            float eps = 4 / 255f;
            AttackResult pgd = eval.run(AttackConfig.pgd(eps).withSteps(100));
            AttackResult apgd = eval.run(AttackConfig.of(AttackConfig.Kind.APGD_CE, eps));
            assertTrue(apgd.robustCorrect() <= pgd.robustCorrect(), "APGD-CE " + apgd.robustCorrect() + " > PGD-100 " + pgd.robustCorrect());
            assertTrue(apgd.robustCorrect() < apgd.cleanCorrect(), "APGD fooled no image");
        }
    }

    /** AutoAttack leaves no more images right than any of its members run alone, and logs each member. */
    @Test
    void autoAttackIsAtLeastAsStrongAsEachMember() throws Exception {
        Backend be = TestBackends.get("java");
        Net net = TrainedModels.net(be);
        float eps = 2 / 255f;
        try (RobustnessEvaluator eval = new RobustnessEvaluator(be, net, TrainedModels.testSet(40), 16, Net.CLASSES, true)) {
            java.util.List<String> log = new java.util.ArrayList<>();
            eval.setLog(log::add);
            AttackResult auto = eval.run(AttackConfig.of(AttackConfig.Kind.AUTOATTACK, eps).withSteps(20).withQueries(100));
            assertEquals(List.of("APGD-CE", "APGD-T", "Square"), auto.stages().stream().map(AutoAttack.Stage::attack).toList());
            assertEquals(4, log.size(), String.join("\n", log));
            assertTrue(log.get(3).startsWith("robust accuracy after Square:"), log.get(3));
            int previous = auto.cleanCorrect();
            for (AutoAttack.Stage stage : auto.stages()) {
                assertTrue(stage.robust() <= previous, stage.toString());
                previous = stage.robust();
            }
            assertEquals(auto.robustCorrect(), previous, "the last stage is the result");
            for (AttackConfig member : List.of(AttackConfig.of(AttackConfig.Kind.APGD_CE, eps).withSteps(20),
                    AttackConfig.of(AttackConfig.Kind.APGD_T, eps).withSteps(20), AttackConfig.of(AttackConfig.Kind.SQUARE, eps).withQueries(100))) {
                AttackResult alone = eval.run(member);
                assertTrue(auto.robustCorrect() <= alone.robustCorrect(), member.describe() + " leaves " + alone.robustCorrect()
                        + ", AutoAttack " + auto.robustCorrect());
            }
            assertNotNull(auto.queryStats());
            assertEquals(AutoAttack.NAME, auto.attackName());
        }
    }
}
