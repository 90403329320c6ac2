package advtrain.golden;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.data.RealData;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.nn.Architectures;
import advtrain.nn.ModelFiles;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.nn.ResNet20;
import advtrain.optim.Sgd;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.train.Objective;
import advtrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * advtrain's ResNets against the PyTorch definitions of tools/resnet_cifar.py, with the goldens of
 * tools/make_resnet_goldens.py (goldens/resnet/): the state_dict layouts, weights moving both ways,
 * ResNet-20's forward pass in both modes, one epoch of training (the parity test), and the clean
 * and PGD accuracy of a PyTorch-trained ResNet-20. Error measure: {@link Goldens}; limit 1e-4.
 */
class ResNetGoldenTest {
    private static Safetensors.Contents eval, epoch;  // read on first use
    @TempDir Path dir;

    private static synchronized Safetensors.Contents evalGolden() {
        if (eval == null) eval = Goldens.read("resnet/resnet20_eval.safetensors");
        return eval;
    }

    private static synchronized Safetensors.Contents epochGolden() {
        if (epoch == null) epoch = Goldens.read("resnet/resnet20_epoch.safetensors");
        return epoch;
    }

    private static Path trainedFile() { return Goldens.path("resnet/resnet20_trained.safetensors"); }

    @Test
    void stateDictsListWhatPyTorchsListInItsOrderWithItsShapesAndDtypes() throws IOException {
        Map<?, ?> layouts = (Map<?, ?>) Json.parse(Files.readString(Goldens.path("resnet/layouts.json")));
        Backend be = TestBackends.get("java");
        for (String arch : List.of(Architectures.RESNET20, Architectures.PREACT_RESNET18)) {
            Module model = Architectures.build(arch, be, 0);
            List<List<Object>> ours = new ArrayList<>();
            model.stateEntries().forEach((name, e) -> ours.add(List.of(name, e.dtype(), shapeList(e.shape()))));
            assertEquals(layouts.get(arch), ours, arch + ": the state_dict PyTorch's load_state_dict(strict=True) expects");
        }
        assertEquals(269_722, new ResNet20(be, 0).parameterCount());
        assertEquals(11_172_170, Architectures.build(Architectures.PREACT_RESNET18, be, 0).parameterCount());
    }

    private static List<Object> shapeList(Shape shape) {
        List<Object> dims = new ArrayList<>();
        for (int d : shape.dims()) dims.add((long) d);
        return dims;
    }

    @Test
    void aStateDictWrittenByPyTorchLoadsStrictlyAndIsSavedBackUnchanged() throws IOException {
        Backend be = TestBackends.get("java");
        Module model = Architectures.load(be, trainedFile());
        assertInstanceOf(ResNet20.class, model, "the file's metadata names resnet20");
        Path saved = dir.resolve("model.safetensors");
        ModelFiles.save(model, be, saved, Map.of("format", "pt"));

        Safetensors.Contents fromPyTorch = Safetensors.read(trainedFile()), fromUs = Safetensors.read(saved);
        assertEquals(List.copyOf(fromPyTorch.tensors().keySet()), List.copyOf(fromUs.tensors().keySet()), "names, in order");
        assertEquals("resnet20", fromUs.metadata().get("arch"));
        fromPyTorch.tensors().forEach((name, t) -> {
            HostTensor back = fromUs.tensors().get(name);
            assertEquals(t.shape(), back.shape(), name);
            assertEquals(t.dtype(), back.dtype(), name);
            if (t.isLong()) assertArrayEquals(t.longValues(), back.longValues(), name);
            else assertArrayEquals(t.values(), back.values(), name + ": bit for bit");
        });
        HostTensor tracked = fromUs.tensors().get("layer3.2.bn2.num_batches_tracked");
        assertEquals("I64", tracked.dtype());
        assertEquals(Shape.of(), tracked.shape());
        assertTrue(tracked.longValues()[0] > 0, "PyTorch counted its training batches");
    }

    private static Tensor testImages(Backend be, int n) throws IOException {
        Dataset test = Cifar10.test(RealData.sample(), n);
        float[] pixels = new float[n * Dataset.IMAGE_BYTES];
        for (int i = 0; i < n; i++) test.copyImage(i, pixels, i * Dataset.IMAGE_BYTES);
        Tensor x = be.allocate(Shape.of(n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH));
        be.write(x, pixels, 0);
        return x;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void forwardMatchesPyTorchInEvaluationAndInTrainingMode(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Safetensors.Contents golden = evalGolden();
        Module model = Architectures.load(be, trainedFile());
        int n = Integer.parseInt(golden.metadata().get("forward_images"));
        Tensor x = testImages(be, n);
        try (Tape tape = new Tape(be)) {
            model.eval();
            Goldens.assertClose(backendName + " eval log_probs", Goldens.tensor(golden, "eval_log_probs"),
                    Tensors.toArray(be, model.forward(tape.constant(x)).data()), Goldens.NET_TOLERANCE);
            tape.reset();
            model.train(true);
            Variable trainOut = model.forward(tape.constant(x));
            Goldens.assertClose(backendName + " train log_probs", Goldens.tensor(golden, "train_log_probs"),
                    Tensors.toArray(be, trainOut.data()), Goldens.NET_TOLERANCE);
        }
        Map<String, HostTensor> state = ModelFiles.stateDict(model, be);
        golden.tensors().forEach((name, expected) -> {
            if (!name.startsWith("after_train.")) return;
            HostTensor got = state.get(name.substring("after_train.".length()));
            if (expected.isLong()) assertArrayEquals(expected.longValues(), got.longValues(), name);
            else Goldens.assertClose(backendName + " " + name, expected, got.values(), Goldens.NET_TOLERANCE);
        });
        be.release(x);
    }

    /** PreAct ResNet-18 with hashInit's weights: its forward pass in both modes (its blocks' shortcuts, its final bn). */
    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void preActResNet18ForwardMatchesPyTorch(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Safetensors.Contents golden = Goldens.read("resnet/preact_forward.safetensors");
        Module model = hashInitPreActResNet18(be);
        Tensor x = testImages(be, Integer.parseInt(golden.metadata().get("images")));
        try (Tape tape = new Tape(be)) {
            model.eval();
            Goldens.assertClose(backendName + " eval log_probs", Goldens.tensor(golden, "eval_log_probs"),
                    Tensors.toArray(be, model.forward(tape.constant(x)).data()), Goldens.NET_TOLERANCE);
            tape.reset();
            model.train(true);
            Goldens.assertClose(backendName + " train log_probs", Goldens.tensor(golden, "train_log_probs"),
                    Tensors.toArray(be, model.forward(tape.constant(x)).data()), Goldens.NET_TOLERANCE);
        }
        be.release(x);
    }

    /**
     * PreAct ResNet-18's backward pass, from hashInit's weights in training mode on 2 test images:
     * the loss, the input gradient and every parameter's gradient (its L2 norm and its first values;
     * the whole gradients are not kept) against PyTorch's, computed in float64.
     */
    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void preActResNet18GradientsMatchPyTorch(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Safetensors.Contents golden = Goldens.read("resnet/preact_forward.safetensors");
        Module model = hashInitPreActResNet18(be);
        model.train(true);
        Tensor x = testImages(be, Integer.parseInt(golden.metadata().get("images")));
        List<String> failures = new ArrayList<>();
        try (Tape tape = new Tape(be)) {
            model.zeroGrad(be);
            Variable input = tape.input(x, true);
            Variable loss = Ops.nllLoss(model.forward(input), tape.constant(Goldens.upload(be, golden, "labels")));
            tape.backward(loss);
            Goldens.collect(failures, () -> Goldens.assertClose("loss", Goldens.tensor(golden, "loss"), Tensors.toArray(be, loss.data()), Goldens.NET_TOLERANCE));
            Goldens.collect(failures, () -> Goldens.assertClose("input_grad", Goldens.tensor(golden, "input_grad"), Tensors.toArray(be, input.grad()), Goldens.NET_TOLERANCE));
            model.namedParameters().forEach((name, p) -> Goldens.collect(failures, () -> {
                float[] grad = Tensors.toArray(be, p.grad());
                double norm = 0;
                for (float g : grad) norm += (double) g * g;
                float[] head = Arrays.copyOf(grad, Goldens.tensor(golden, "grad_head." + name).values().length);
                Goldens.assertClose("grad_norm." + name, Goldens.tensor(golden, "grad_norm." + name), new float[] {(float) Math.sqrt(norm)}, Goldens.NET_TOLERANCE);
                Goldens.assertClose("grad_head." + name, Goldens.tensor(golden, "grad_head." + name), head, Goldens.NET_TOLERANCE);
            }));
        }
        be.release(x);
        if (!failures.isEmpty()) fail(failures.size() + " of PreAct ResNet-18's gradients differ:\n" + String.join("\n", failures));
    }

    /** PreAct ResNet-18 with hashInit's weights, as both of its goldens were computed. */
    private static Module hashInitPreActResNet18(Backend be) {
        Module model = Architectures.build(Architectures.PREACT_RESNET18, be, 5);
        hashInit(model, be);
        return model;
    }

    /**
     * THE PARITY TEST: one epoch of SGD in training mode over the first images of the sample in file
     * order, from the same initial weights (hashInit, computed as tools/resnet_cifar.py's hash_init),
     * through the Trainer that `train` uses; then every weight and batch norm buffer against PyTorch
     * (computed in float64), each within 1e-4 of its tensor's scale.
     *
     * <p>The scale of a batch norm bias is that of its layer's weight (gamma, which starts at 1): a
     * bias starts at 0, so relative to itself it would measure the error relative to what one epoch
     * moved it, and that is where float32 arithmetic cannot follow the exact answer. Among the 3 M
     * ReLU inputs of a step a few lie within 1e-6 of zero (4 in the first step here), where float32
     * rounding can take the other side of the kink; that changes the gradients of the layers below
     * by about 1e-3 of their size (PyTorch's own float32 does the same at other elements, depending
     * on its rounding), hence the small learning rate: the weights stay well within 1e-4.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void oneEpochOfTrainingEndsWherePyTorchsEnds(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Safetensors.Contents golden = epochGolden();
        Map<String, String> settings = golden.metadata();
        int images = Integer.parseInt(settings.get("images")), batch = Integer.parseInt(settings.get("batch"));
        Module model = new ResNet20(be, 99);
        hashInit(model, be);
        Sgd sgd = new Sgd(be, model.parameters(), Float.parseFloat(settings.get("lr")), Float.parseFloat(settings.get("momentum")));
        BatchLoader loader = new BatchLoader(Cifar10.train(RealData.sample(), images), batch, false, false, 0);
        Trainer.EpochStats stats;
        try (Trainer trainer = new Trainer(be, model, sgd, Objective.standard())) {
            stats = trainer.trainEpoch(loader, 0, null);
        }
        float[] losses = Goldens.tensor(golden, "losses").values();
        double meanLoss = 0;
        for (float l : losses) meanLoss += l / losses.length;
        assertEquals(meanLoss, stats.loss(), 1e-4 * meanLoss, "the epoch's mean loss");

        Map<String, HostTensor> state = ModelFiles.stateDict(model, be);
        double worst = 0;
        String worstName = null;
        for (Map.Entry<String, HostTensor> e : state.entrySet()) {
            String name = e.getKey();
            HostTensor expected = Goldens.tensor(golden, name);
            if (expected.isLong()) {
                assertArrayEquals(expected.longValues(), e.getValue().longValues(), name);
                continue;
            }
            double scale = maxAbs(expected.values());
            if (name.endsWith(".bias") && !name.startsWith("linear")) {
                scale = Math.max(scale, maxAbs(Goldens.tensor(golden, name.replace(".bias", ".weight")).values()));
            }
            double error = maxAbsDifference(expected.values(), e.getValue().values()) / scale;
            if (error >= worst) {
                worst = error;
                worstName = name;
            }
        }
        System.out.printf("%s: after one epoch the largest error is %.2g (%s); mean loss %.6f, PyTorch's %.6f%n",
                backendName, worst, worstName, stats.loss(), meanLoss);
        assertTrue(worst <= Goldens.NET_TOLERANCE, backendName + ": " + worstName + " differs from PyTorch's by " + worst + " of its scale");
        assertEquals(images / batch, state.get("layer2.0.bn1.num_batches_tracked").longValues()[0]);
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) max = Math.max(max, Math.abs(v));
        return max;
    }

    private static double maxAbsDifference(float[] expected, float[] got) {
        assertEquals(expected.length, got.length);
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - expected[i]);
            if (!(d <= max)) max = d;  // NaN wins
        }
        return max;
    }

    /** The same clean and PGD predictions as PyTorch's, image by image (PGD: a near-zero gradient may take another sign). */
    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void aPyTorchTrainedResNetHasPyTorchsCleanAndPgdAccuracy(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Module model = Architectures.load(be, trainedFile());
        Safetensors.Contents golden = evalGolden();
        Map<String, String> m = golden.metadata();
        int n = Integer.parseInt(m.get("images")), steps = Integer.parseInt(m.get("steps"));
        float eps = (float) Double.parseDouble(m.get("eps"));
        Dataset test = Cifar10.test(RealData.sample(), n);
        AttackResult result;
        try (RobustnessEvaluator evaluator = new RobustnessEvaluator(be, model, test, 50, Net.CLASSES, true)) {
            result = evaluator.run(AttackConfig.pgd(eps).withSteps(steps));
        }
        float[] clean = Goldens.tensor(golden, "clean_pred").values(), robust = Goldens.tensor(golden, "pgd_pred").values();
        int robustDisagree = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(clean[i] == test.label(i), result.cleanRight()[i], "clean, image " + i);
            if ((robust[i] == test.label(i)) != result.robustRight()[i]) robustDisagree++;
        }
        assertEquals(Integer.parseInt(m.get("clean_correct")), result.cleanCorrect(), "clean accuracy");
        System.out.printf("%s: clean %d/%d (PyTorch %s), PGD-%d eps=%s %d/%d (PyTorch %s), %d images judged otherwise%n",
                backendName, result.cleanCorrect(), n, m.get("clean_correct"), steps, m.get("eps"), result.robustCorrect(), n,
                m.get("pgd_correct"), robustDisagree);
        assertTrue(robustDisagree <= 1, robustDisagree + " images judged otherwise than by PyTorch under PGD");
        assertEquals(Integer.parseInt(m.get("pgd_correct")), result.robustCorrect(), 1, "PGD accuracy");
        assertTrue(result.cleanCorrect() > result.robustCorrect(), "the attack works");
    }

    /** tools/resnet_cifar.py's hash_init: every parameter of rank 2 or more, and linear.bias, from splitmix64. */
    static void hashInit(Module model, Backend be) {
        int j = 0;
        int linearIn = model.namedParameters().get("linear.weight").shape().dim(1);
        for (Map.Entry<String, Variable> e : model.namedParameters().entrySet()) {
            Shape shape = e.getValue().shape();
            if (shape.rank() < 2 && !e.getKey().equals("linear.bias")) continue;
            int fanIn = shape.rank() >= 2 ? shape.size() / shape.dim(0) : linearIn;
            double scale = shape.rank() >= 2 ? Math.sqrt(6.0 / fanIn) : 1.0 / Math.sqrt(fanIn);
            float[] values = new float[shape.size()];
            for (int i = 0; i < values.length; i++) {
                long bits = splitmix64(((long) j << 32) + i) >>> 40;
                values[i] = (float) ((bits / (double) (1 << 23) - 1.0) * scale);
            }
            be.write(e.getValue().data(), values, 0);
            j++;
        }
    }

    private static long splitmix64(long x) {
        x += 0x9E3779B97F4A7C15L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }
}
