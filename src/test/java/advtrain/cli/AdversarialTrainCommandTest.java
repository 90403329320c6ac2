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

/** train --adv ...: option checks, what run.json and metrics.csv record, resuming. */
class AdversarialTrainCommandTest {

    private static Cli.Run train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", RealData.sample().toString(), "--out", out.toString(),
                "--limit-train", "192", "--limit-test", "64", "--backend", "java", "--seed", "3", "--json"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void badAdversarialOptionsAreOneLineAndExitStatusTwo(@TempDir Path tmp) {
        List<List<String>> bad = List.of(
                List.of("--adv", "fgsm", "--adv-eps", "-0.1"),
                List.of("--adv", "fgsm", "--adv-mix", "1.5"),
                List.of("--adv", "fgsm", "--adv-mix", "-0.5"),
                List.of("--adv", "pgd", "--adv-steps", "0"),
                List.of("--adv", "pgd", "--adv-step-size", "0"),
                List.of("--adv", "fgsm", "--adv-steps", "3"),
                List.of("--adv", "none", "--adv-mix", "0.5"),
                List.of("--adv", "trades"),
                List.of("--adv", "fgsm", "--eval-adv-limit", "-1"));
        for (List<String> options : bad) {
            Path out = tmp.resolve("run" + bad.indexOf(options));
            Cli.Run run = train(out, options.toArray(String[]::new));
            assertEquals(2, run.status(), options + ": " + run);
            assertEquals(1, run.errorLines().size(), options + ": one line: " + run.err());
            String line = run.errorLines().get(0);
            String option = options.get(options.size() - 2);
            assertTrue(line.contains(option), options + " names " + option + ": " + line);
            assertFalse(run.err().contains("\tat "), "no stack trace");
            assertFalse(Files.exists(out), options + ": nothing written");
        }
    }

    @Test
    void recordsTheSettingsAndTheRobustAccuracyEachEpoch(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("rs");
        Cli.Run run = train(out, "--adv", "fgsm-rs", "--adv-eps", "8/255", "--epochs", "2", "--eval-adv-limit", "40");
        assertEquals(0, run.status(), run.toString());
        Map<String, Object> json = run.json();
        double robust = ((Number) json.get("robust_test_accuracy")).doubleValue();
        assertTrue(robust >= 0 && robust <= ((Number) json.get("test_accuracy")).doubleValue() + 1e-9,
                "robust accuracy counts images right after the attack, so at most... the clean accuracy on those images: " + json);

        Map<?, ?> runJson = (Map<?, ?>) Json.parse(Files.readString(out.resolve("run.json")));
        Map<?, ?> objective = (Map<?, ?>) runJson.get("objective");
        assertEquals("fgsm-rs", objective.get("adv"));
        assertEquals(8f / 255f, ((Number) objective.get("eps")).floatValue());
        assertEquals(0.5, ((Number) objective.get("mix")).doubleValue(), "fgsm-rs mixes 0.5 by default");
        assertEquals(1L, objective.get("steps"));
        assertEquals(1.25f * (8f / 255f), ((Number) objective.get("step_size")).floatValue(), 1e-7f, "Wong et al.'s 1.25 eps");
        assertEquals(true, objective.get("random_start"));
        Map<?, ?> options = (Map<?, ?>) runJson.get("options");
        assertEquals(40L, options.get("eval_adv_limit"));
        assertTrue(String.valueOf(options.get("eval_adv_attack")).startsWith("PGD Linf"), options.toString());

        List<String> metrics = Files.readAllLines(out.resolve("metrics.csv"));
        List<String> header = List.of(metrics.get(0).split(","));
        int at = header.indexOf("robust_test_acc");
        assertTrue(at > 0, "metrics.csv has robust_test_acc: " + header);
        assertEquals(3, metrics.size(), "two epochs");
        for (String row : metrics.subList(1, 3)) {
            double value = Double.parseDouble(row.split(",")[at]);
            assertTrue(value >= 0 && value <= 1, row);
            double share = value * 40;
            assertEquals(Math.round(share), share, 1e-3, "a count out of the 40 attacked images: " + row);
        }

        // With --adv none, the column appears only when --adv-eps asks for it.
        Cli.Run plain = train(tmp.resolve("plain"), "--epochs", "1");
        assertEquals(0, plain.status(), plain.toString());
        assertFalse(Files.readAllLines(tmp.resolve("plain/metrics.csv")).get(0).contains("robust"));
        assertNull(plain.json().get("robust_test_accuracy"));
        Cli.Run measured = train(tmp.resolve("measured"), "--epochs", "1", "--adv-eps", "0.01", "--eval-adv-limit", "20");
        assertEquals(0, measured.status(), measured.toString());
        assertTrue(Files.readAllLines(tmp.resolve("measured/metrics.csv")).get(0).endsWith(",robust_test_acc"));
        assertEquals("none", ((Map<?, ?>) measured.json().get("adv")).get("adv"));
    }

    @Test
    void aResumedPgdRunEqualsAnUninterruptedOneAndOtherSettingsAreRefused(@TempDir Path tmp) throws IOException {
        String[] pgd = {"--adv", "pgd", "--adv-eps", "0.02", "--adv-steps", "2", "--eval-adv-limit", "16"};
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        Cli.Run a = train(straight, concat(pgd, "--epochs", "2"));
        assertEquals(0, a.status(), a.toString());
        Cli.Run b1 = train(resumed, concat(pgd, "--epochs", "1"));
        assertEquals(0, b1.status(), b1.toString());

        // Other adversarial settings than the run's: refused, one line, exit 2, the run untouched.
        String before = Files.readString(resumed.resolve("run.json"));
        for (String[] other : List.of(new String[] {"--adv-mix", "0.5"}, new String[] {"--adv", "fgsm"},
                new String[] {"--adv-eps", "0.03"}, new String[] {"--adv-steps", "3"})) {
            Cli.Run refused = Cli.run(concat(new String[] {"train", "--data", RealData.sample().toString(), "--out", resumed.toString(),
                    "--resume", "--epochs", "2", "--backend", "java"}, other));
            assertEquals(2, refused.status(), List.of(other) + ": " + refused);
            assertEquals(1, refused.errorLines().size(), refused.err());
            assertTrue(refused.errorLines().get(0).contains("different objective"), refused.err());
            assertEquals(before, Files.readString(resumed.resolve("run.json")), "the run is untouched");
        }

        // Only --resume: the adversarial settings come from run.json, and the random starts of epoch 2
        // are those of the uninterrupted run (they are seeded by the epoch).
        Cli.Run b2 = Cli.run("train", "--data", RealData.sample().toString(), "--out", resumed.toString(), "--resume", "--epochs", "2",
                "--backend", "java", "--json");
        assertEquals(0, b2.status(), b2.toString());
        assertEquals(((Map<?, ?>) a.json().get("adv")), b2.json().get("adv"));
        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            Map<String, HostTensor> x = Safetensors.read(straight.resolve(file)).tensors(), y = Safetensors.read(resumed.resolve(file)).tensors();
            for (String name : x.keySet()) assertArrayEquals(x.get(name).values(), y.get(name).values(), file + ": " + name + " bit-identical");
        }
        List<String> m1 = Files.readAllLines(straight.resolve("metrics.csv")), m2 = Files.readAllLines(resumed.resolve("metrics.csv"));
        assertEquals(m1.get(0), m2.get(0), "the same columns, robust_test_acc kept");
        int at = List.of(m1.get(0).split(",")).indexOf("robust_test_acc");
        assertEquals(m1.get(2).split(",")[at], m2.get(2).split(",")[at], "the same robust accuracy after epoch 2");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
