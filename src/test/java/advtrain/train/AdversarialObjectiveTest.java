package advtrain.train;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The adversarial objectives against computations done by hand with the engine: the seed's Eq. 3
 * loss and its parameter gradients, the adversarial batches of fgsm-rs and pgd, and no allocation
 * per step.
 */
class AdversarialObjectiveTest {
    private static final int N = 6;

    /** A tiny batch: uniform pixels (some within ε of 0 or 1, so the clip matters) and random labels. */
    private record Batch(float[] images, float[] labels) {
        static Batch make(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            return new Batch(TestData.uniform(random, 0, 1, N, 3, 32, 32).values(), TestData.labels(random, N, 10));
        }
    }

    /** The loss L(θ, x, y) and its parameter gradients, on a fresh tape, x a constant. */
    private record LossAndGrads(float loss, List<float[]> grads) {}

    private static LossAndGrads lossAndGrads(Backend be, Net net, Tensor x, Tensor y) {
        net.zeroGrad(be);
        try (Tape tape = new Tape(be)) {
            Variable loss = Ops.nllLoss(net.forward(tape.constant(x)), tape.constant(y));
            float value = Ops.item(loss);
            tape.backward(loss);
            return new LossAndGrads(value, paramGrads(be, net));
        }
    }

    private static List<float[]> paramGrads(Backend be, Net net) {
        List<float[]> grads = new ArrayList<>();
        for (Variable p : net.parameters()) grads.add(Tensors.toArray(be, p.grad()));
        return grads;
    }

    /** ∇x L(θ, x, y), computed with the engine on a tape of its own. */
    private static float[] inputGradient(Backend be, Net net, Tensor x, Tensor y) {
        try (Tape tape = new Tape(be)) {
            Variable input = tape.input(x, true);
            tape.backward(Ops.nllLoss(net.forward(input), tape.constant(y)));
            return Tensors.toArray(be, input.grad());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void fgsmLossIsEquationThreeAndNoGradientFlowsThroughTheAdversarialBatch(String backendName) {
        Backend be = TestBackends.get(backendName);
        float eps = 0.05f, mix = 0.3f;  // mix != 0.5, so swapping the two terms would show
        Net net = new Net(be, 11);
        Batch batch = Batch.make(5);
        Tensor x = Tensors.fromArray(be, batch.images(), N, 3, 32, 32), y = Tensors.fromArray(be, batch.labels(), N);

        // By hand: x_adv = clip(x + eps * sign(grad_x L), [0, 1]) on the host, from the engine's input gradient.
        float[] gradX = inputGradient(be, net, x, y);
        float[] xAdvHost = new float[gradX.length];
        int clipped = 0;
        for (int i = 0; i < gradX.length; i++) {
            float v = batch.images()[i] + eps * Math.signum(gradX[i]);
            xAdvHost[i] = Math.min(1f, Math.max(0f, v));
            if (xAdvHost[i] != v) clipped++;
        }
        assertTrue(clipped > 0, "some pixels are clipped, so the test covers the clip");
        Tensor xAdv = Tensors.fromArray(be, xAdvHost, N, 3, 32, 32);
        LossAndGrads clean = lossAndGrads(be, net, x, y);
        LossAndGrads adversarial = lossAndGrads(be, net, xAdv, y);  // x_adv held constant

        // The objective, as the Trainer calls it.
        net.zeroGrad(be);
        float objectiveLoss;
        List<float[]> objectiveGrads;
        float[] objectiveLogProbs;
        try (AdversarialObjective objective = new AdversarialObjective(be, AdversarialTraining.fgsm(eps, mix), 0);
             Tape tape = new Tape(be)) {
            Objective.Step step = objective.loss(net, tape, tape.constant(x), tape.constant(y));
            objectiveLoss = Ops.item(step.loss());
            objectiveLogProbs = Tensors.toArray(be, step.logProbs().data());
            float[] crafted = Tensors.toArray(be, objective.lastAdversarial());
            for (int i = 0; i < crafted.length; i++) {
                assertEquals(xAdvHost[i], crafted[i], 1e-6f, "x_adv[" + i + "] is clip(x + eps*sign(grad))");
            }
            tape.backward(step.loss());
            objectiveGrads = paramGrads(be, net);
        }
        for (Variable p : net.parameters()) assertTrue(p.requiresGrad(), "the attack gives the parameters back unfrozen");
        assertTrue(net.isTraining(), "and the model back in training mode");

        double expected = mix * clean.loss() + (1 - mix) * adversarial.loss();
        System.out.printf("%s: L(x) %.6f, L(x_adv) %.6f, mix %.6f, objective %.6f%n", backendName,
                clean.loss(), adversarial.loss(), expected, objectiveLoss);
        assertTrue(adversarial.loss() > clean.loss() + 0.01, "FGSM raises the loss: " + clean.loss() + " -> " + adversarial.loss());
        assertEquals(expected, objectiveLoss, 1e-5, "Eq. 3: mix*L(x) + (1-mix)*L(x_adv)");

        // The clean forward pass is what counts toward the training accuracy.
        try (Tape tape = new Tape(be); Tape.NoGrad off = tape.noGrad()) {
            assertArrayEquals(Tensors.toArray(be, net.forward(tape.constant(x)).data()), objectiveLogProbs, 1e-6f);
        }

        // Parameter gradients: mix*grad L(x) + (1-mix)*grad L(x_adv), x_adv a constant. A gradient
        // through the construction of x_adv would add terms; sign() has none, but the objective must
        // also not differentiate the attack's own loss into the parameters.
        double worst = 0;
        for (int k = 0; k < objectiveGrads.size(); k++) {
            float[] got = objectiveGrads.get(k), a = clean.grads().get(k), b = adversarial.grads().get(k);
            double scale = 0;
            for (int i = 0; i < got.length; i++) scale = Math.max(scale, Math.abs(mix * a[i] + (1 - mix) * b[i]));
            for (int i = 0; i < got.length; i++) {
                double want = mix * (double) a[i] + (1 - mix) * (double) b[i];
                double error = Math.abs(got[i] - want) / (1e-4 * scale + 1e-8);
                worst = Math.max(worst, error);
                assertEquals(want, got[i], 1e-4 * scale + 1e-8, "parameter " + k + " gradient [" + i + "]");
            }
        }
        System.out.printf("%s: worst gradient error %.3g of the tolerance%n", backendName, worst);
        for (Tensor t : new Tensor[] {x, y, xAdv}) be.release(t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void pgdAndFgsmWithRandomStartStayInTheBallAndTrainOnTheirOwnLoss(String backendName) {
        Backend be = TestBackends.get(backendName);
        float eps = 0.03f;
        Net net = new Net(be, 12);
        Batch batch = Batch.make(6);
        Tensor x = Tensors.fromArray(be, batch.images(), N, 3, 32, 32), y = Tensors.fromArray(be, batch.labels(), N);
        float cleanLoss = lossAndGrads(be, net, x, y).loss();
        for (AdversarialTraining training : List.of(
                AdversarialTraining.of(AdversarialTraining.Method.PGD, eps, null, null, null),
                AdversarialTraining.of(AdversarialTraining.Method.FGSM_RS, eps, 0f, null, null))) {
            assertEquals(0f, training.mix(), "mix 0: the adversarial loss alone");
            try (AdversarialObjective objective = new AdversarialObjective(be, training, 3); Tape tape = new Tape(be)) {
                objective.startEpoch(0);
                Objective.Step step = objective.loss(net, tape, tape.constant(x), tape.constant(y));
                float loss = Ops.item(step.loss());
                float[] crafted = Tensors.toArray(be, objective.lastAdversarial());
                float largest = 0;
                for (int i = 0; i < crafted.length; i++) {
                    assertTrue(crafted[i] >= 0f && crafted[i] <= 1f, "x_adv in [0, 1]");
                    largest = Math.max(largest, Math.abs(crafted[i] - batch.images()[i]));
                }
                assertTrue(largest <= eps * (1 + 1e-5f), training.method() + ": |x_adv - x| <= eps, got " + largest);
                assertTrue(largest > 0.9f * eps, training.method() + " reaches the edge of the ball: " + largest);
                Tensor xAdv = Tensors.fromArray(be, crafted, N, 3, 32, 32);
                float byHand = lossAndGrads(be, net, xAdv, y).loss();
                be.release(xAdv);
                System.out.printf("%s %s: L(x) %.5f, L(x_adv) %.5f, objective %.5f%n", backendName, training.method(), cleanLoss, byHand, loss);
                assertEquals(byHand, loss, 1e-5f, "mix 0: the loss is L(x_adv)");
                assertTrue(loss > cleanLoss, training.method() + " raises the loss");
                // No clean pass: the training accuracy counts the adversarial batch's predictions,
                // the log-probabilities whose NLL is the loss.
                float[] logProbs = Tensors.toArray(be, step.logProbs().data()), labels = batch.labels();
                double nll = 0;
                for (int n = 0; n < N; n++) nll -= logProbs[n * 10 + (int) labels[n]];
                assertEquals(loss, nll / N, 1e-5, "the reported log-probabilities are the adversarial pass's");
            }
        }
        be.release(x);
        be.release(y);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void stepsAfterTheFirstAllocateNothing(String backendName) {
        Backend be = TestBackends.get(backendName);
        Batch batch = Batch.make(7);
        Tensor x = Tensors.fromArray(be, batch.images(), N, 3, 32, 32), y = Tensors.fromArray(be, batch.labels(), N);
        for (AdversarialTraining.Method method : AdversarialTraining.Method.values()) {
            if (method == AdversarialTraining.Method.NONE) continue;
            Net net = new Net(be, 13);
            Sgd sgd = new Sgd(be, net.parameters(), 0.01f, 0.9f);
            AdversarialTraining training = AdversarialTraining.of(method, 0.03f, null, method == AdversarialTraining.Method.PGD ? 3 : null, null);
            try (AdversarialObjective objective = new AdversarialObjective(be, training, 1); Tape tape = new Tape(be)) {
                objective.startEpoch(0);
                int afterFirst = -1;
                for (int s = 0; s < 4; s++) {
                    net.zeroGrad(be);
                    tape.backward(objective.loss(net, tape, tape.constant(x), tape.constant(y)).loss());
                    sgd.step();
                    tape.reset();
                    int allocations = tape.allocations() + objective.allocations();
                    if (s == 0) afterFirst = allocations;
                    else assertEquals(afterFirst, allocations, method + ": step " + (s + 1) + " allocated tensors");
                }
                objective.startEpoch(0);  // the same epoch again: the same attack
                assertEquals(afterFirst, tape.allocations() + objective.allocations());
                objective.startEpoch(1);  // a new epoch: the attack reseeded, its buffers kept
                tape.backward(objective.loss(net, tape, tape.constant(x), tape.constant(y)).loss());
                tape.reset();
                assertEquals(afterFirst, tape.allocations() + objective.allocations(), method + ": the second epoch allocated tensors");
            }
        }
        be.release(x);
        be.release(y);
    }

    /** Epoch 1 of a run draws the random starts that epoch 1 of a resumed run (a new objective) draws. */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java"})
    void aReseededAttackDrawsWhatAFreshOneDraws(String backendName) {
        Backend be = TestBackends.get(backendName);
        Batch batch = Batch.make(11);
        Tensor x = Tensors.fromArray(be, batch.images(), N, 3, 32, 32), y = Tensors.fromArray(be, batch.labels(), N);
        Net net = new Net(be, 5);
        AdversarialTraining training = AdversarialTraining.of(AdversarialTraining.Method.FGSM_RS, 0.03f, 0f, null, null);
        float[][] epochOne = new float[2][], epochZero = new float[1][];
        for (int run = 0; run < 2; run++) {
            try (AdversarialObjective objective = new AdversarialObjective(be, training, 3); Tape tape = new Tape(be)) {
                if (run == 0) {  // an uninterrupted run: epoch 0's two batches, then epoch 1
                    objective.startEpoch(0);
                    for (int s = 0; s < 2; s++) {
                        objective.loss(net, tape, tape.constant(x), tape.constant(y));
                        tape.reset();
                    }
                    epochZero[0] = Tensors.toArray(be, objective.lastAdversarial());
                }
                objective.startEpoch(1);
                objective.loss(net, tape, tape.constant(x), tape.constant(y));
                epochOne[run] = Tensors.toArray(be, objective.lastAdversarial());
                tape.reset();
            }
        }
        assertArrayEquals(epochOne[1], epochOne[0], 0f, "epoch 1's adversarial batch after epoch 0 and after a resume");
        assertFalse(java.util.Arrays.equals(epochZero[0], epochOne[0]), "epoch 1 drew epoch 0's starts");
        be.release(x);
        be.release(y);
    }
}
