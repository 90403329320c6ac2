package advtrain.train;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.data.RealData;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {
    private static Dataset train512;

    @BeforeAll
    static void load() throws IOException {
        train512 = Cifar10.train(RealData.sample(), 512);
    }

    @Test
    void oneEpochOn512ImagesLowersTheLossWithoutAllocatingInSteadyState() {
        Backend backend = new CpuBackend();
        Net net = new Net(backend, 1);
        // This network starts slowly: the seed's lr 0.001 moves the loss by only ~3e-4 in 16 steps of 32
        // images. 64 steps of 8 at lr 0.05 take it from 2.305 to about 2.267.
        Sgd sgd = new Sgd(backend, net.parameters(), 0.05f, 0.9f);
        BatchLoader loader = new BatchLoader(train512, 8, true, false, 1);
        try (Trainer trainer = new Trainer(backend, net, sgd, Objective.standard());
             CleanEvaluator evaluator = new CleanEvaluator(backend, 128)) {
            double before = evaluator.evaluate(net, train512).loss();
            assertTrue(before > 2.2 && before < 2.4, "untrained: near ln(10) = 2.303, got " + before);
            Trainer.EpochStats first = trainer.trainEpoch(loader, 0, null);
            double after = evaluator.evaluate(net, train512).loss();
            assertEquals(512, first.images());
            System.out.println("one epoch on 512 images: loss " + before + " -> " + after);
            assertTrue(after < before - 0.02, "one epoch lowers the loss: " + before + " -> " + after);
            int allocated = trainer.tapeAllocations();
            Trainer.EpochStats second = trainer.trainEpoch(loader, 1, null);
            assertEquals(allocated, trainer.tapeAllocations(), "the second epoch allocates no tensors on the tape");
            assertTrue(second.loss() < first.loss(), "the mean training loss falls: " + first.loss() + " -> " + second.loss());
        }
    }

    @Test
    void theTrainingLossAndAccuracyAreThoseOfTheBatches() {
        // An objective that also copies every batch's loss and predictions to the host, to check the
        // totals the Trainer keeps on the backend.
        Backend backend = new CpuBackend();
        Net net = new Net(backend, 2);
        Sgd sgd = new Sgd(backend, net.parameters(), 0.01f, 0.9f);
        double[] lossTimesCount = {0};
        int[] correct = {0};
        Objective recording = new Objective() {
            @Override public Step loss(Module model, Tape tape, Variable images, Variable labels) {
                Step step = Objective.standard().loss(model, tape, images, labels);
                float[] logProbs = Tensors.toArray(backend, step.logProbs().data()), y = Tensors.toArray(backend, labels.data());
                int n = y.length;
                lossTimesCount[0] += (double) Ops.item(step.loss()) * n;
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int c = 1; c < 10; c++) if (logProbs[i * 10 + c] > logProbs[i * 10 + best]) best = c;
                    if (best == (int) y[i]) correct[0]++;
                }
                return step;
            }

            @Override public Map<String, Object> settings() { return Map.of("adv", "recording"); }
        };
        Dataset data = train512.limit(300);  // 300 = 9 batches of 32 and one of 12
        try (Trainer trainer = new Trainer(backend, net, sgd, recording)) {
            Trainer.EpochStats stats = trainer.trainEpoch(new BatchLoader(data, 32, true, false, 3), 0, null);
            assertEquals(300, stats.images());
            assertEquals(lossTimesCount[0] / 300, stats.loss(), 1e-5);
            assertEquals(correct[0] / 300.0, stats.accuracy(), 1e-12);
            assertTrue(correct[0] > 0, "some right");
        }
    }

    @Test
    void aNanLossStopsTrainingWithAClearMessage() {
        Backend backend = new CpuBackend();
        Net net = new Net(backend, 3);
        Sgd sgd = new Sgd(backend, net.parameters(), 0.001f, 0.9f);
        int[] steps = {0};
        Objective poisoned = new Objective() {
            @Override public Step loss(Module model, Tape tape, Variable images, Variable labels) {
                Step step = Objective.standard().loss(model, tape, images, labels);
                return ++steps[0] < 3 ? step : new Step(Ops.scale(step.loss(), Float.NaN), step.logProbs());
            }

            @Override public Map<String, Object> settings() { return Map.of("adv", "poisoned"); }
        };
        try (Trainer trainer = new Trainer(backend, net, sgd, poisoned)) {
            Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class,
                    () -> trainer.trainEpoch(new BatchLoader(train512, 32, true, false, 3), 4, null));
            assertTrue(e.getMessage().contains("became NaN in epoch 5"), e.getMessage());
        }
    }

    @Test
    void evaluationCountsAreConsistentAndDoNotDependOnTheBatchSize() {
        Backend backend = new CpuBackend();
        Net net = new Net(backend, 4);
        Dataset data = train512.limit(150);
        Evaluation a, b;
        try (CleanEvaluator big = new CleanEvaluator(backend, 500); CleanEvaluator small = new CleanEvaluator(backend, 7)) {
            a = big.evaluate(net, data);
            b = small.evaluate(net, data);
        }
        assertEquals(150, a.n());
        assertEquals(a.correct(), b.correct());
        assertEquals(a.loss(), b.loss(), 1e-6);
        int total = 0, diagonal = 0;
        for (int t = 0; t < 10; t++) {
            assertArrayEquals(a.confusion()[t], b.confusion()[t]);
            for (int p = 0; p < 10; p++) total += a.confusion()[t][p];
            diagonal += a.confusion()[t][t];
        }
        assertEquals(150, total);
        assertEquals(a.correct(), diagonal);
        int[] counts = a.classCounts();
        for (int i = 0; i < 150; i++) counts[data.label(i)]--;
        assertArrayEquals(new int[10], counts, "row sums are the true class counts");
        double[] perClass = a.perClassAccuracy();
        for (int c = 0; c < 10; c++) assertEquals((double) a.confusion()[c][c] / a.classCounts()[c], perClass[c], 1e-12);
        String report = a.report();
        assertTrue(report.contains("airplane") && report.contains("confusion matrix"), report);
    }
}
