package advtrain.nn;

import advtrain.attack.AttackConfig;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.data.RealData;
import advtrain.optim.Sgd;
import advtrain.testing.TestBackends;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Objective;
import advtrain.train.Trainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** ResNet-20 in training and in evaluation mode: what moves, what is counted, what is allocated. */
class ResNetModesTest {
    private final Backend be = TestBackends.get("java");

    private static long tracked(Module model) { return model.namedBuffers().get("bn1.num_batches_tracked").count(); }

    private float[] runningMean(Module model) { return Tensors.toArray(be, model.namedBuffers().get("layer1.0.bn1.running_mean").tensor()); }

    @Test
    void trainingStepsCountAndMoveTheBuffersAllocateNothingAfterTheFirstAndEvaluationLeavesThemAlone() throws Exception {
        ResNet20 model = new ResNet20(be, 1);
        Dataset data = Cifar10.train(RealData.sample(), 16);
        BatchLoader loader = new BatchLoader(data, 8, false, false, 0);
        try (Trainer trainer = new Trainer(be, model, new Sgd(be, model.parameters(), 0.01f, 0.9f), Objective.standard())) {
            trainer.trainEpoch(loader, 0, null);
            int allocated = trainer.tapeAllocations();
            assertEquals(2, tracked(model), "one count per training forward pass");
            float[] before = runningMean(model);
            trainer.trainEpoch(loader, 1, null);
            assertEquals(allocated, trainer.tapeAllocations(), "the second epoch allocates no tensors on the tape");
            assertEquals(4, tracked(model));
            assertFalse(java.util.Arrays.equals(before, runningMean(model)), "training moves the running statistics");
        }
        float[] before = runningMean(model);
        try (RobustnessEvaluator evaluator = new RobustnessEvaluator(be, model, data, 8, Net.CLASSES, true)) {
            evaluator.run(AttackConfig.pgd(2 / 255f).withSteps(2));
        }
        assertEquals(4, tracked(model), "attacks and evaluation run in evaluation mode");
        assertArrayEquals(before, runningMean(model));
        assertTrue(model.isTraining(), "the evaluator gives the model back in the mode it found it");
    }

    @Test
    void adversarialTrainingCraftsItsExamplesInTrainingMode() throws Exception {
        ResNet20 model = new ResNet20(be, 2);
        AdversarialTraining fgsmRs = AdversarialTraining.of(AdversarialTraining.Method.FGSM_RS, 8 / 255f, 0f, null, null);
        BatchLoader loader = new BatchLoader(Cifar10.train(RealData.sample(), 8), 8, false, false, 0);
        try (Objective objective = AdversarialObjective.of(be, fgsmRs, 0);
             Trainer trainer = new Trainer(be, model, new Sgd(be, model.parameters(), 0.01f, 0.9f), objective)) {
            trainer.trainEpoch(loader, 0, null);
        }
        // Wong et al.: the crafting pass and the training pass, both in training mode, and no clean
        // pass (mix 0: the training accuracy is the adversarial batch's).
        assertEquals(2, tracked(model), "the attack's forward pass ran in training mode, as the training pass did");
    }

    /**
     * At inference (evaluation mode, nothing recorded) each conv → batch norm (→ + shortcut) → ReLU
     * is one fused kernel; with the input's gradient asked for, the ops run one by one. Same logits,
     * bit for bit, after a training epoch has moved the running statistics off 0 and 1.
     */
    @Test
    void fusedInferenceGivesTheLogitsOfTheOpsOneByOne() throws Exception {
        ResNet20 model = new ResNet20(be, 3);
        Dataset data = Cifar10.train(RealData.sample(), 16);
        try (Trainer trainer = new Trainer(be, model, new Sgd(be, model.parameters(), 0.05f, 0.9f), Objective.standard())) {
            trainer.trainEpoch(new BatchLoader(data, 8, false, false, 0), 0, null);
        }
        model.eval();
        float[] pixels = new float[16 * 3 * 32 * 32];
        java.util.SplittableRandom random = new java.util.SplittableRandom(4);
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) random.nextDouble();
        advtrain.tensor.Tensor x = Tensors.fromArray(be, pixels, 16, 3, 32, 32);
        advtrain.autograd.Tape tape = new advtrain.autograd.Tape(be);
        float[] fused;
        try (advtrain.autograd.Tape.NoGrad scope = tape.noGrad()) {
            fused = Tensors.toArray(be, model.forward(tape.input(x, false)).data());
        }
        float[] oneByOne = Tensors.toArray(be, model.forward(tape.input(x, true)).data());
        assertArrayEquals(oneByOne, fused);
    }
}
