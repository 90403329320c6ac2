package advtrain.cli;

import advtrain.backend.cpu.CpuBackend;
import advtrain.data.Cifar10;
import advtrain.data.RealData;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class EvalCommandTest {

    @Test
    void evaluatesATrainedModelAsTrainingDid(@TempDir Path tmp) {
        Path run = tmp.resolve("run");
        Cli.Run trained = Cli.run("train", "--data", RealData.sample().toString(), "--out", run.toString(), "--epochs", "1",
                "--limit-train", "320", "--limit-test", "200", "--backend", "java", "--json");
        assertEquals(0, trained.status(), trained.toString());

        Cli.Run eval = Cli.run("eval", "--model", run.resolve("model.safetensors").toString(), "--data", RealData.sample().toString(),
                "--limit-test", "200", "--batch", "64", "--backend", "java", "--json");
        assertEquals(0, eval.status(), eval.toString());
        Map<String, Object> json = eval.json();
        assertEquals(trained.json().get("test_accuracy"), json.get("accuracy"), "eval agrees with training's own evaluation");
        assertEquals(200L, json.get("n"));
        Map<?, ?> perClass = (Map<?, ?>) json.get("per_class");
        assertEquals(Cifar10.CLASSES, List.copyOf(perClass.keySet().stream().map(String::valueOf).toList()));
        List<?> confusion = (List<?>) json.get("confusion");
        long total = 0, diagonal = 0;
        for (int t = 0; t < 10; t++) {
            List<?> row = (List<?>) confusion.get(t);
            for (int p = 0; p < 10; p++) total += (Long) row.get(p);
            diagonal += (Long) row.get(t);
        }
        assertEquals(200, total);
        assertEquals(((Number) json.get("accuracy")).doubleValue(), diagonal / 200.0, 1e-12);
        assertTrue(eval.out().contains("confusion matrix") && eval.out().contains("truck"), eval.out());
    }

    @Test
    void truncatedHostileOrForeignModelFilesGiveOneLineAndExitStatus1(@TempDir Path tmp) throws IOException {
        Path good = tmp.resolve("good.safetensors");
        advtrain.nn.ModelFiles.save(new advtrain.nn.Net(new CpuBackend(), 1), new CpuBackend(), good, null);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = tmp.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        Path hostile = tmp.resolve("hostile.safetensors");
        Files.write(hostile, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 62).putLong(0).array());
        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        Path foreign = tmp.resolve("foreign.safetensors");
        Safetensors.write(foreign, Map.of("weight", new HostTensor(Shape.of(2), new float[] {1, 2})), null);

        String[][] cases = {
                {truncated.toString(), "not a valid safetensors file"},
                {hostile.toString(), "header length"},
                {empty.toString(), "too short"},
                {foreign.toString(), "does not hold this model's weights"},
                {tmp.resolve("absent.safetensors").toString(), "no such file"},
                {tmp.toString(), "is a folder, not a file"},
        };
        for (String[] c : cases) {
            // No data in --data: the model file is checked first, so its problem is the one reported.
            Cli.Run r = Cli.run("eval", "--model", c[0], "--data", tmp.resolve("no-data").toString(), "--limit-test", "10", "--backend", "java");
            assertEquals(1, r.status(), r.toString());
            assertEquals(1, r.errorLines().size(), r.toString());
            assertTrue(r.errorLines().get(0).contains(c[1]), r.toString());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r);
        }
        Cli.Run badBatch = Cli.run("eval", "--model", good.toString(), "--batch", "0");
        assertEquals(2, badBatch.status(), badBatch.toString());
        Cli.Run noData = Cli.run("eval", "--model", good.toString(), "--data", tmp.resolve("no-data").toString(), "--backend", "java");
        assertEquals(1, noData.status(), noData.toString());
        assertTrue(noData.err().contains("./advtrain download --data " + tmp.resolve("no-data")), noData.toString());
    }
}
