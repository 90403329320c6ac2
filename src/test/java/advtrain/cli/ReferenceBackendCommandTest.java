package advtrain.cli;

import advtrain.data.RealData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --backend reference from the command line: it trains and attacks (slowly), and devices lists it. */
class ReferenceBackendCommandTest {

    @Test
    void trainsAndAttacksAsTheJavaBackendDoes(@TempDir Path tmp) {
        String data = RealData.sample().toString();   // the committed CIFAR-10 sample
        Path run = tmp.resolve("run");
        Cli.Run train = Cli.run("train", "--data", data, "--out", run.toString(), "--backend", "reference", "--limit-train", "64",
                "--limit-test", "32", "--epochs", "1", "--seed", "3", "--json");
        assertEquals(0, train.status(), train.toString());
        assertEquals("reference", train.json().get("backend"), train.out());
        Path model = run.resolve("model.safetensors");
        assertTrue(Files.isRegularFile(model), "the model file is written");

        Map<String, Object> onReference = attack(model, data, "reference"), onJava = attack(model, data, "java");
        for (String field : List.of("clean_accuracy", "robust_accuracy")) {
            double reference = ((Number) onReference.get(field)).doubleValue(), java = ((Number) onJava.get(field)).doubleValue();
            // 32 images: the two backends' sums may round differently, which may flip at most a near tie
            assertEquals(java, reference, 1.0 / 32 + 1e-9, field + ": reference " + onReference + ", java " + onJava);
        }
    }

    private static Map<String, Object> attack(Path model, String data, String backend) {
        Cli.Run r = Cli.run("attack", "--model", model.toString(), "--data", data, "--backend", backend, "--attack", "fgsm",
                "--eps", "0.03", "--limit-test", "32", "--batch", "16", "--json");
        assertEquals(0, r.status(), r.toString());
        return r.json();
    }

    @Test
    void devicesListsItAndAutoNeverPicksIt() {
        Cli.Run r = Cli.run("devices", "--json");
        assertEquals(0, r.status(), r.toString());
        List<?> backends = (List<?>) r.json().get("backends");
        assertTrue(backends.stream().anyMatch(b -> "reference".equals(((Map<?, ?>) b).get("name"))
                && Boolean.TRUE.equals(((Map<?, ?>) b).get("available"))), r.out());
        assertNotEquals("reference", r.json().get("auto"));
    }

    @Test
    void helpSaysItIsThePlainSlowDefinition() {
        Cli.Run r = Cli.run("attack", "--help");
        assertEquals(0, r.status(), r.toString());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("reference is the plain, single-threaded definition"), r.out());
        assertTrue(help.contains("slow"), r.out());
    }
}
