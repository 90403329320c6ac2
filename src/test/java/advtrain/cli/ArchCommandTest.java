package advtrain.cli;

import advtrain.data.RealData;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** train --arch, and the commands that build the network a model file names. */
class ArchCommandTest {
    private static Cli.Run train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", RealData.sample().toString(), "--out", out.toString(),
                "--limit-train", "48", "--limit-test", "32", "--batch", "16", "--backend", "java", "--seed", "3", "--json"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void resnet20TrainsResumesBitIdenticallyWithItsBatchNormBuffersAndIsEvaluatedAndAttacked(@TempDir Path tmp) throws IOException {
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        Cli.Run a = train(straight, "--arch", "resnet20", "--epochs", "2");
        assertEquals(0, a.status(), a.toString());
        assertEquals("resnet20", a.json().get("arch"));
        assertEquals(0, train(resumed, "--arch", "resnet20", "--epochs", "1").status());
        Cli.Run b = Cli.run("train", "--out", resumed.toString(), "--resume", "--epochs", "2", "--backend", "java", "--json");
        assertEquals(0, b.status(), b.toString());
        assertEquals("resnet20", b.json().get("arch"), "--resume takes the network from run.json");
        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            Map<String, HostTensor> x = Safetensors.read(straight.resolve(file)).tensors(), y = Safetensors.read(resumed.resolve(file)).tensors();
            assertEquals(List.copyOf(x.keySet()), List.copyOf(y.keySet()), file);
            for (String name : x.keySet()) {
                if (x.get(name).isLong()) assertArrayEquals(x.get(name).longValues(), y.get(name).longValues(), file + ": " + name);
                else assertArrayEquals(x.get(name).values(), y.get(name).values(), file + ": " + name + " bit-identical");
            }
        }
        Safetensors.Contents model = Safetensors.read(straight.resolve("model.safetensors"));
        assertEquals("resnet20", model.metadata().get("arch"));
        assertEquals(6L, model.tensors().get("layer3.2.bn2.num_batches_tracked").longValues()[0], "2 epochs of 3 batches");
        assertTrue(Safetensors.read(straight.resolve("optimizer.safetensors")).tensors().containsKey("param.bn1.running_var"),
                "the training state keeps the buffers");
        Map<?, ?> runJson = (Map<?, ?>) Json.parse(Files.readString(straight.resolve("run.json")));
        assertEquals("resnet20", ((Map<?, ?>) runJson.get("options")).get("arch"));

        String modelFile = straight.resolve("model.safetensors").toString();
        Cli.Run eval = Cli.run("eval", "--model", modelFile, "--data", RealData.sample().toString(), "--limit-test", "32",
                "--backend", "java", "--json");
        assertEquals(0, eval.status(), eval.toString());
        Cli.Run attack = Cli.run("attack", "--model", modelFile, "--data", RealData.sample().toString(), "--limit-test", "32",
                "--attack", "pgd", "--eps", "2/255", "--steps", "2", "--backend", "java", "--json");
        assertEquals(0, attack.status(), attack.toString());
        assertEquals(eval.json().get("accuracy"), attack.json().get("clean_accuracy"), "evaluation mode for both: the same clean accuracy");
        assertEquals(a.json().get("test_accuracy"), eval.json().get("accuracy"), "train's evaluation ran in evaluation mode too");
    }

    @Test
    void initFromAnotherNetworksFileIsRefusedInOneLineAndAnUnknownArchIsAUsageError(@TempDir Path tmp) throws IOException {
        Path lenet = tmp.resolve("lenet");
        assertEquals(0, train(lenet, "--epochs", "1").status());
        Cli.Run refused = train(tmp.resolve("r"), "--arch", "resnet20", "--init", lenet.resolve("model.safetensors").toString());
        assertEquals(2, refused.status(), refused.toString());
        assertEquals(1, refused.errorLines().size(), refused.toString());
        assertTrue(refused.err().contains("holds a lenet network") && refused.err().contains("--arch lenet"), refused.err());
        assertFalse(Files.exists(tmp.resolve("r").resolve("run.json")), "refused before anything was written");

        Cli.Run unknown = train(tmp.resolve("u"), "--arch", "resnet50");
        assertEquals(2, unknown.status(), unknown.toString());
        assertTrue(unknown.err().contains("unknown network 'resnet50'") && unknown.err().contains("preact-resnet18"), unknown.err());

        Cli.Run resumedOther = Cli.run("train", "--out", lenet.toString(), "--resume", "--arch", "resnet20", "--epochs", "2", "--backend", "java");
        assertEquals(2, resumedOther.status(), resumedOther.toString());
        assertTrue(resumedOther.err().contains("different network"), resumedOther.err());
    }
}
