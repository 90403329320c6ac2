package advtrain.train;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.data.RealData;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.HostTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainingRunTest {
    private static Dataset train, test;

    @BeforeAll
    static void load() throws IOException {
        train = Cifar10.train(RealData.sample(), 96);
        test = Cifar10.test(RealData.sample(), 50);
    }

    private static TrainConfig config(int epochs) {
        return new TrainConfig(epochs, 32, 0.001f, 0.9f, 9, true, false, 96, 50, null);
    }

    private static TrainingRun.Result run(Path dir, int epochs, boolean resume) throws IOException {
        Backend backend = new CpuBackend();
        return new TrainingRun(dir, config(epochs), Objective.standard(), backend, Map.of())
                .output(null, true)
                .addColumn(new TrainingRun.Column("fc3_bias_0", "fc3.bias[0]", model -> Tensors.toArray(backend, model.namedParameters().get("fc3.bias").data())[0]))
                .run(train, test, resume);
    }

    @Test
    void aRunStoppedBetweenItsWritesResumesCleanly(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        run(dir, 1, false);
        // As if stopped after writing metrics for epoch 2 but before its checkpoint, and between
        // the state and model writes of epoch 1.
        Files.writeString(dir.resolve("metrics.csv"), Files.readString(dir.resolve("metrics.csv")) + "2,9,9,9,9,9,9,9\n");
        Files.delete(dir.resolve("model.safetensors"));

        TrainingRun.Result same = run(dir, 1, true);
        assertTrue(same.history().isEmpty(), "nothing to train");
        assertTrue(Files.exists(dir.resolve("model.safetensors")), "the model is written again from the training state");
        assertEquals(2, Files.readAllLines(dir.resolve("metrics.csv")).size(), "the stray row for epoch 2 is dropped");

        TrainingRun.Result more = run(dir, 2, true);
        assertEquals(2, more.epochs());
        List<String> lines = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(3, lines.size());
        assertEquals("epoch,train_loss,train_acc,test_acc,test_loss,seconds,images_per_second,fc3_bias_0", lines.get(0));
        assertTrue(lines.get(2).startsWith("2,") && !lines.get(2).startsWith("2,9,"), lines.get(2));
        String[] row = lines.get(2).split(",");
        assertEquals(Double.parseDouble(row[1]), more.trainLoss(), 1e-6);
        assertEquals(Double.parseDouble(row[3]), more.testAccuracy(), 1e-6);
        float bias = Safetensors.read(dir.resolve("model.safetensors")).tensors().get("fc3.bias").values()[0];
        assertEquals(bias, Double.parseDouble(row[7]), 1e-6, "the extra column saw the epoch's model");

        @SuppressWarnings("unchecked")
        Map<String, Object> runJson = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("run.json")));
        assertEquals(2L, runJson.get("epochs_completed"));
        assertEquals(2, ((List<?>) runJson.get("resumed")).size());
        assertEquals(Map.of("adv", "none"), runJson.get("objective"));
    }

    @Test
    void theTrainingStateIsCheckedBeforeUse(@TempDir Path tmp) throws IOException {
        Backend backend = new CpuBackend();
        Net net = new Net(backend, 1);
        Sgd sgd = new Sgd(backend, net.parameters(), 0.001f, 0.9f);
        Path state = tmp.resolve("optimizer.safetensors");
        Checkpoint.save(state, net, sgd, backend, 3);
        assertEquals(3, Checkpoint.load(state, new Net(backend, 2), new Sgd(backend, new Net(backend, 2).parameters(), 0.001f, 0.9f), backend));

        Safetensors.Contents contents = Safetensors.read(state);
        Map<String, HostTensor> tensors = new LinkedHashMap<>(contents.tensors());
        float[] poisoned = tensors.get("momentum_buffer.fc1.bias").values().clone();
        poisoned[0] = Float.NaN;
        tensors.put("momentum_buffer.fc1.bias", new HostTensor(tensors.get("momentum_buffer.fc1.bias").shape(), poisoned));
        Safetensors.write(state, tensors, contents.metadata());
        Net target = new Net(backend, 5);
        float before = Tensors.toArray(backend, target.namedParameters().get("conv1.weight").data())[0];
        Sgd targetSgd = new Sgd(backend, target.parameters(), 0.001f, 0.9f);
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class, () -> Checkpoint.load(state, target, targetSgd, backend));
        assertTrue(e.getMessage().contains("momentum buffer of fc1.bias holds NaN"), e.getMessage());
        assertEquals(before, Tensors.toArray(backend, target.namedParameters().get("conv1.weight").data())[0], "nothing loaded from a bad state");

        Safetensors.write(state, contents.tensors(), Map.of("format", "something else"));
        e = assertThrows(Safetensors.InvalidFileException.class, () -> Checkpoint.load(state, target, targetSgd, backend));
        assertTrue(e.getMessage().contains("not an advtrain training state"), e.getMessage());
    }

    @Test
    void theConfigRoundTripsThroughRunJsonExactly() {
        TrainConfig c = new TrainConfig(7, 48, 0.0123f, 0.85f, -3, false, true, 1234, 99, "/x/y.safetensors");
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.write(c.toJson()));
        assertEquals(c, TrainConfig.fromJson(parsed));
        assertEquals(Cifar10.TRAIN_SIZE, new TrainConfig(1, 1, 1, 0, 0, true, false, 99_999, 1, null).limitTrain(), "limits clip to the data");
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson(Map.of("epochs", 1)));
    }
}
