package advtrain.backend.opencl;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The seed's network trained for a few SGD steps on OpenCL and on Java from the same weights and
 * batch: the losses, the input gradient (what the attacks use) and the weights after training must
 * agree, and a steady-state training step on OpenCL must copy nothing between host and device but
 * the loss it reads.
 */
class OpenClNetTrainingTest {

    private record Run(List<Float> losses, float[] inputGrad, List<float[]> weights, long[] stepTransfers) {}

    private static Run train(Backend backend, float[] images, float[] labels, int batch) {
        Net net = new Net(backend, 7);
        Tensor x = Tensors.fromArray(backend, images, batch, 3, 32, 32), y = Tensors.fromArray(backend, labels, batch);
        Sgd sgd = new Sgd(backend, net.parameters(), 0.01f, 0.9f);
        List<Float> losses = new ArrayList<>();
        float[] inputGrad = null;
        long[] before = null, after = null;
        try (Tape tape = new Tape(backend)) {
            for (int step = 0; step < 6; step++) {
                if (step == 3 && backend instanceof OpenClBackend cl) before = cl.transfers();
                net.zeroGrad(backend);
                Variable input = tape.input(x, true);
                Variable loss = Ops.nllLoss(net.forward(input), tape.constant(y));
                tape.backward(loss);
                losses.add(Ops.item(loss));
                sgd.step();
                if (step == 3 && backend instanceof OpenClBackend cl) after = cl.transfers();
                if (step == 0) inputGrad = Tensors.toArray(backend, input.grad());
                tape.reset();
            }
        }
        List<float[]> weights = new ArrayList<>();
        for (Variable p : net.parameters()) weights.add(Tensors.toArray(backend, p.data()));
        long[] transfers = before == null ? null : new long[] {after[0] - before[0], after[1] - before[1], after[2] - before[2], after[3] - before[3]};
        return new Run(losses, inputGrad, weights, transfers);
    }

    @Test
    void trainingStepsMatchJavaAndCopyOnlyTheLoss() {
        Backend opencl = TestBackends.get("opencl");
        int batch = 16;
        SplittableRandom random = new SplittableRandom(3);
        float[] images = new float[batch * 3 * 32 * 32], labels = new float[batch];
        for (int i = 0; i < images.length; i++) images[i] = (float) random.nextDouble();
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(10);

        Run java = train(new CpuBackend(), images, labels, batch);
        Run cl = train(opencl, images, labels, batch);

        for (int step = 0; step < java.losses().size(); step++) {
            assertEquals(java.losses().get(step), cl.losses().get(step), 1e-4, "loss at step " + step);
        }
        assertTrue(cl.losses().get(5) < cl.losses().get(0), "the loss falls: " + cl.losses());
        OpenClTestSupport.assertClose("input gradient", java.inputGrad(), cl.inputGrad(), 1e-4);
        for (int i = 0; i < java.weights().size(); i++) {
            OpenClTestSupport.assertClose("parameter " + i + " after 6 steps", java.weights().get(i), cl.weights().get(i), 1e-4);
        }
        assertArrayEquals(new long[] {0, 0, 1, 4}, cl.stepTransfers(),
                "a training step copies nothing to the device and reads one float (the loss): {writes, bytes, reads, bytes}");
    }
}
