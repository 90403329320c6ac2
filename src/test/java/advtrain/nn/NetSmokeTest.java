package advtrain.nn;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.optim.Sgd;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class NetSmokeTest {
    @Test
    void hasTheSeedsParameterCount() {
        Net net = new Net(new CpuBackend(), 1);
        assertEquals(62_006, net.parameterCount());
        assertEquals(java.util.List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"), java.util.List.copyOf(net.namedParameters().keySet()));
    }

    @Test
    void sgdStepsLowerTheLossOnOneBatch() {
        Backend be = new CpuBackend();
        Net net = new Net(be, 1);
        SplittableRandom r = new SplittableRandom(2);
        int n = 8;
        Tensor x = randomImages(be, n, r);
        float[] py = new float[n];
        for (int i = 0; i < n; i++) py[i] = r.nextInt(10);
        Tensor y = Tensors.fromArray(be, py, n);
        Sgd sgd = new Sgd(be, net.parameters(), 0.01f, 0.9f);
        float first = 0, last = 0;
        try (Tape tape = new Tape(be)) {
            for (int step = 0; step < 60; step++) {
                net.zeroGrad(be);
                Variable input = tape.input(x, true);
                Variable loss = Ops.nllLoss(net.forward(input), tape.constant(y));
                tape.backward(loss);
                assertEquals(Shape.of(n, 3, 32, 32), input.grad().shape());
                float l = Ops.item(loss);
                if (step == 0) first = l;
                last = l;
                sgd.step();
                tape.reset();
            }
            int allocated = tape.allocations();
            net.zeroGrad(be);
            tape.backward(Ops.nllLoss(net.forward(tape.input(x, true)), tape.constant(y)));
            tape.reset();
            assertEquals(allocated, tape.allocations(), "steady-state steps allocate no tensors");
        }
        assertTrue(first > 2.0 && first < 2.6, "initial loss near ln(10): " + first);
        assertTrue(last < first * 0.75, "loss fell from " + first + " to " + last);
    }

    /**
     * Each convolution and its max-pool run as one backend call; evaluation (no gradient) does not
     * keep the convolution's output, training does. Both must give the same log-probabilities, bit
     * for bit (and the gradients are checked against PyTorch by the golden tests).
     */
    @Test
    void evaluationWithFusedConvPoolMatchesTheRecordedForward() {
        Backend be = new CpuBackend();
        Net net = new Net(be, 3);
        Tensor x = randomImages(be, 5, new SplittableRandom(4));
        try (Tape tape = new Tape(be)) {
            float[] recorded = Tensors.toArray(be, net.forward(tape.input(x, true)).data());
            float[] fused;
            try (Tape.NoGrad off = tape.noGrad()) {
                fused = Tensors.toArray(be, net.forward(tape.input(x, false)).data());
            }
            assertArrayEquals(recorded, fused);
        }
    }

    /** n images of CIFAR shape with pixels uniform in [0, 1). */
    private static Tensor randomImages(Backend be, int n, SplittableRandom r) {
        float[] px = new float[n * 3 * 32 * 32];
        for (int i = 0; i < px.length; i++) px[i] = (float) r.nextDouble();
        return Tensors.fromArray(be, px, n, 3, 32, 32);
    }
}
