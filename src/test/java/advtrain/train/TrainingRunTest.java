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
import advtrain.io.InvalidOptionException;
import advtrain.optim.LrSchedule;
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
import java.util.concurrent.atomic.AtomicInteger;

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

    /** A run of {@code config}; with {@code failAtEpoch}, the run fails in that epoch (1-based), after the one before was saved. */
    private static TrainingRun.Result run(Path dir, TrainConfig config, boolean resume, int failAtEpoch) throws IOException {
        AtomicInteger evaluations = new AtomicInteger();
        return new TrainingRun(dir, config, Objective.standard(), new CpuBackend(), Map.of())
                .output(null, true)
                .addColumn(new TrainingRun.Column("probe", "probe", model -> {
                    if (evaluations.incrementAndGet() == failAtEpoch) throw new IllegalStateException("stopped in epoch " + failAtEpoch);
                    return 0;
                }))
                .run(train, test, resume);
    }

    private static void assertSameBits(Path a, Path b) throws IOException {
        for (String file : List.of(TrainingRun.MODEL_FILE, TrainingRun.STATE_FILE)) {
            Map<String, HostTensor> x = Safetensors.read(a.resolve(file)).tensors(), y = Safetensors.read(b.resolve(file)).tensors();
            assertEquals(x.keySet(), y.keySet());
            for (String name : x.keySet()) assertArrayEquals(x.get(name).values(), y.get(name).values(), file + ": " + name + " bit-identical");
        }
    }

    @Test
    void aResumedRunContinuesItsScheduleAndDecayExactly(@TempDir Path tmp) throws IOException {
        TrainConfig config = new TrainConfig(3, 32, 0.05f, 0.9f, 9, true, false, 96, 50, null, 5e-4f, LrSchedule.Kind.ONECYCLE);
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        run(straight, config, false, 0);
        IllegalStateException stop = assertThrows(IllegalStateException.class, () -> run(resumed, config, false, 2));
        assertEquals("stopped in epoch 2", stop.getMessage());
        assertEquals("1", Safetensors.read(resumed.resolve(TrainingRun.STATE_FILE)).metadata().get("epochs_completed"));

        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> run(resumed, config.withEpochs(4), true, 0));
        assertTrue(e.getMessage().contains("onecycle learning-rate schedule spans the run's 3 epochs"), e.getMessage());

        assertEquals(3, run(resumed, config, true, 0).epochs());
        assertSameBits(straight, resumed);
        assertEquals("0.0", Safetensors.read(resumed.resolve(TrainingRun.STATE_FILE)).metadata().get("lr"), "one-cycle ends at rate 0");
        @SuppressWarnings("unchecked")
        Map<String, Object> options = (Map<String, Object>) ((Map<String, Object>) Json.parse(Files.readString(resumed.resolve("run.json")))).get("options");
        assertEquals("onecycle", options.get("lr_schedule"));
        assertEquals(5e-4, options.get("weight_decay"), "as written: the float 5e-4 in its shortest form");

        // Without the schedule and the decay the weights differ: the test can fail.
        Path plain = tmp.resolve("plain");
        run(plain, new TrainConfig(3, 32, 0.05f, 0.9f, 9, true, false, 96, 50, null), false, 0);
        assertThrows(AssertionError.class, () -> assertSameBits(straight, plain));
    }

    @Test
    void aRunJsonFromBeforeDecayAndSchedulesResumesAsConstantWithoutDecay(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        run(dir, 1, false);
        Path runJson = dir.resolve("run.json");
        String text = Files.readString(runJson);
        String old = text.replaceAll(",\\s*\"weight_decay\": [^,]*", "").replaceAll(",\\s*\"lr_schedule\": \"[a-z]*\"", "");
        assertFalse(old.contains("weight_decay") || old.contains("lr_schedule"), old);
        Files.writeString(runJson, old);
        assertEquals(2, run(dir, 2, true).epochs());
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
        for (TrainConfig c : List.of(new TrainConfig(7, 48, 0.0123f, 0.85f, -3, false, true, 1234, 99, "/x/y.safetensors"),
                new TrainConfig(7, 48, 0.0123f, 0.85f, -3, false, true, 1234, 99, null, 5e-4f, LrSchedule.Kind.COSINE))) {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.write(c.toJson()));
            assertEquals(c, TrainConfig.fromJson(parsed));
        }
        assertThrows(InvalidOptionException.class, () -> new TrainConfig(1, 1, 1, 0, 0, true, false, 1, 1, null, -1e-4f, LrSchedule.Kind.CONSTANT));
        assertEquals(Cifar10.TRAIN_SIZE, new TrainConfig(1, 1, 1, 0, 0, true, false, 99_999, 1, null).limitTrain(), "limits clip to the data");
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson(Map.of("epochs", 1)));
    }
}
