package advtrain.cli;

import advtrain.data.RealData;
import advtrain.io.Safetensors;
import advtrain.io.Json;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainCommandTest {
    /** A quick recipe: 256 training images, 100 test images; options in {@code more} add to it or replace its values. */
    private static List<String> quick(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", RealData.sample().toString(), "--out", out.toString(),
                "--limit-train", "256", "--limit-test", "100", "--backend", "java", "--seed", "5", "--json"));
        for (int i = 0; i < more.length; i++) {
            boolean hasValue = i + 1 < more.length && !more[i + 1].startsWith("--");
            int at = args.indexOf(more[i]);
            if (at >= 0 && hasValue) args.set(at + 1, more[++i]);
            else if (hasValue) { args.add(more[i]); args.add(more[++i]); }
            else args.add(more[i]);
        }
        return args;
    }

    private static Cli.Run train(Path out, String... more) {
        return Cli.run(quick(out, more).toArray(String[]::new));
    }

    @Test
    void resumingGivesBitIdenticalWeightsToAnUninterruptedRun(@TempDir Path tmp) throws IOException {
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        Cli.Run a = train(straight, "--epochs", "2");
        assertEquals(0, a.status(), a.toString());
        Cli.Run b1 = train(resumed, "--epochs", "1");
        assertEquals(0, b1.status(), b1.toString());
        // Resume with only --out: the recipe (seed, limits, ...) comes from run.json; --epochs raises the total.
        Cli.Run b2 = Cli.run("train", "--data", RealData.sample().toString(), "--out", resumed.toString(), "--resume", "--epochs", "2",
                "--backend", "java", "--json");
        assertEquals(0, b2.status(), b2.toString());
        assertTrue(b2.out().contains("continuing"), b2.out());

        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            Map<String, HostTensor> x = Safetensors.read(straight.resolve(file)).tensors(), y = Safetensors.read(resumed.resolve(file)).tensors();
            assertEquals(x.keySet(), y.keySet());
            for (String name : x.keySet()) assertArrayEquals(x.get(name).values(), y.get(name).values(), file + ": " + name + " bit-identical");
        }
        List<String> m1 = Files.readAllLines(straight.resolve("metrics.csv")), m2 = Files.readAllLines(resumed.resolve("metrics.csv"));
        assertEquals(3, m1.size(), "header and two epochs");
        assertEquals(List.of("epoch", "train_loss", "train_acc", "test_acc", "test_loss"), List.of(m1.get(0).split(",")).subList(0, 5));
        for (int row = 0; row < 3; row++) {
            String[] p = m1.get(row).split(","), q = m2.get(row).split(",");
            assertArrayEquals(java.util.Arrays.copyOf(p, 5), java.util.Arrays.copyOf(q, 5), "row " + row + " up to the timings");
        }
        assertEquals(a.json().get("test_accuracy"), b2.json().get("test_accuracy"));
        assertEquals(2L, b2.json().get("epochs"));

        // The second epoch's loss is lower than the first's, even on 256 images at lr 0.001.
        double loss1 = Double.parseDouble(m1.get(1).split(",")[1]), loss2 = Double.parseDouble(m1.get(2).split(",")[1]);
        assertTrue(loss2 < loss1, loss1 + " -> " + loss2);

        // Nothing left to do: a second resume changes nothing and says so.
        Cli.Run again = Cli.run("train", "--data", RealData.sample().toString(), "--out", resumed.toString(), "--resume", "--backend", "java");
        assertEquals(0, again.status(), again.toString());
        assertTrue(again.out().contains("nothing to train"), again.out());
        assertEquals(m2, Files.readAllLines(resumed.resolve("metrics.csv")));
    }

    @Test
    void writesTheStateDictRunJsonAndTheJsonFields(@TempDir Path tmp) throws IOException {
        Path run = tmp.resolve("run");
        Cli.Run r = train(run, "--epochs", "1", "--augment", "--batch", "64");
        assertEquals(0, r.status(), r.toString());

        Map<String, Shape> expected = new LinkedHashMap<>();
        expected.put("conv1.weight", Shape.of(6, 3, 5, 5));
        expected.put("conv1.bias", Shape.of(6));
        expected.put("conv2.weight", Shape.of(16, 6, 5, 5));
        expected.put("conv2.bias", Shape.of(16));
        expected.put("fc1.weight", Shape.of(120, 400));
        expected.put("fc1.bias", Shape.of(120));
        expected.put("fc2.weight", Shape.of(84, 120));
        expected.put("fc2.bias", Shape.of(84));
        expected.put("fc3.weight", Shape.of(10, 84));
        expected.put("fc3.bias", Shape.of(10));
        Map<String, HostTensor> saved = Safetensors.read(run.resolve("model.safetensors")).tensors();
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(saved.keySet()), "exactly the state_dict names, in order");
        expected.forEach((name, shape) -> assertEquals(shape, saved.get(name).shape(), name));

        Map<String, Object> json = r.json();
        for (String field : List.of("test_accuracy", "train_loss", "epochs", "seconds", "images_per_second", "backend")) {
            assertTrue(json.containsKey(field), "JSON has " + field + ": " + json);
        }
        assertEquals("java", json.get("backend"));
        assertEquals(1L, json.get("epochs"));
        assertTrue(((Number) json.get("images_per_second")).doubleValue() > 0);
        double accuracy = ((Number) json.get("test_accuracy")).doubleValue();
        assertTrue(accuracy >= 0 && accuracy <= 1, "a fraction: " + accuracy);

        @SuppressWarnings("unchecked")
        Map<String, Object> runJson = (Map<String, Object>) Json.parse(Files.readString(run.resolve("run.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> options = (Map<String, Object>) runJson.get("options");
        assertEquals(64L, options.get("batch"));
        assertEquals(true, options.get("augment"));
        assertEquals(5L, options.get("seed"));
        assertEquals(0.001, options.get("lr"));
        assertEquals(0.9, options.get("momentum"));
        assertEquals(256L, options.get("limit_train"));
        assertEquals("completed", runJson.get("status"));
        assertEquals(1L, runJson.get("epochs_completed"));
        assertTrue(runJson.get("versions") instanceof Map<?, ?> v && v.containsKey("java"), runJson.toString());
        assertTrue(runJson.get("backend") instanceof Map<?, ?> b && "java".equals(b.get("name")), runJson.toString());
        try (var files = Files.list(run)) {
            assertEquals(List.of(".advtrain.lock", "metrics.csv", "model.safetensors", "optimizer.safetensors", "run.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left behind");
        }
    }

    @Test
    void badOptionsGiveOneLineAndExitStatus2(@TempDir Path tmp) {
        String[][] cases = {
                {"--epochs", "0", "--epochs must be >= 1"},
                {"--lr", "-1", "--lr must be a number > 0"},
                {"--lr", "NaN", "--lr must be a number > 0"},
                {"--batch", "0", "--batch must be >= 1"},
                {"--momentum", "1", "--momentum must be in [0, 1)"},
                {"--weight-decay", "-1e-4", "--weight-decay must be a number >= 0, got -1.0E-4"},
                {"--weight-decay", "NaN", "--weight-decay must be a number >= 0"},
                {"--lr-schedule", "onecylce", "--lr-schedule: unknown learning-rate schedule 'onecylce': use constant, onecycle or cosine; did you mean onecycle?"},
                {"--lr-schedule", "step", "use constant, onecycle or cosine"},
                {"--limit-train", "0", "--limit-train must be >= 1"},
                {"--backend", "cuda", "unknown backend 'cuda'"},
                {"--epochs", "two", "Invalid value"},
        };
        for (String[] c : cases) {
            Path out = tmp.resolve("never");
            List<String> args = quick(out, c[0], c[1]);
            Cli.Run r = Cli.run(args.toArray(String[]::new));
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errorLines().size(), r.toString());
            assertTrue(r.errorLines().get(0).contains(c[2]), r.toString());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r);
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", c));
        }
        Cli.Run missing = Cli.run("train", "--epochs", "1");
        assertEquals(2, missing.status(), missing.toString());
        assertTrue(missing.err().contains("--out"), missing.toString());
    }

    @Test
    void runtimeProblemsGiveOneLineAndExitStatus1(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Cli.Run noData = Cli.run("train", "--data", empty.toString(), "--out", tmp.resolve("r1").toString(), "--backend", "java");
        assertEquals(1, noData.status(), noData.toString());
        assertEquals(1, noData.errorLines().size(), noData.toString());
        assertTrue(noData.err().contains("./advtrain download --data " + empty), noData.toString());
        assertFalse(Files.exists(tmp.resolve("r1")));

        Cli.Run noInit = train(tmp.resolve("r2"), "--init", tmp.resolve("nope.safetensors").toString());
        assertEquals(1, noInit.status(), noInit.toString());
        assertTrue(noInit.err().contains("nope.safetensors: no such file"), noInit.toString());

        Path aFile = Files.writeString(tmp.resolve("a-file"), "not a folder");
        Cli.Run underAFile = train(aFile.resolve("run"), "--epochs", "1");
        assertEquals(1, underAFile.status(), underAFile.toString());
        assertEquals(1, underAFile.errorLines().size(), underAFile.toString());
        assertTrue(underAFile.errorLines().get(0).contains(aFile.toString()), underAFile.toString());

        // A learning rate far too large: the loss becomes infinite or NaN in the first epoch.
        Path diverged = tmp.resolve("diverged");
        Cli.Run blowUp = train(diverged, "--epochs", "2", "--lr", "1e6");
        assertEquals(1, blowUp.status(), blowUp.toString());
        assertEquals(1, blowUp.errorLines().size(), blowUp.toString());
        assertTrue(blowUp.err().contains("the training loss became") && blowUp.err().contains("no checkpoint was written")
                && blowUp.err().contains("lower --lr"), blowUp.toString());
        assertFalse(Files.exists(diverged.resolve("model.safetensors")), "no model from diverged weights");
        assertTrue(Files.readString(diverged.resolve("run.json")).contains("\"status\": \"diverged\""));
        // --json: the last stdout line is the error object, not the last epoch's line of text
        assertEquals(1L, blowUp.json().get("exit"), blowUp.toString());
        assertTrue(blowUp.json().get("error").toString().contains("the training loss became"), blowUp.toString());
    }

    @Test
    void anExistingRunNeedsResumeAndKeepsItsRecipe(@TempDir Path tmp) throws IOException {
        Path run = tmp.resolve("run");
        assertEquals(0, train(run, "--epochs", "1", "--limit-train", "64").status());
        String model = Files.readString(run.resolve("run.json"));

        Cli.Run again = train(run, "--epochs", "1", "--limit-train", "64");
        assertEquals(2, again.status(), again.toString());
        assertTrue(again.err().contains("already holds a training run") && again.err().contains("--resume"), again.toString());

        Cli.Run otherLr = train(run, "--epochs", "2", "--limit-train", "64", "--resume", "--lr", "0.01");
        assertEquals(2, otherLr.status(), otherLr.toString());
        assertTrue(otherLr.err().contains("different recipe") && otherLr.err().contains("lr"), otherLr.toString());
        assertEquals(model, Files.readString(run.resolve("run.json")), "a refused resume changes nothing");

        // A schedule and a decay are part of the recipe: resuming takes them from run.json, and refuses others.
        Path scheduled = tmp.resolve("scheduled");
        Cli.Run first = train(scheduled, "--epochs", "2", "--limit-train", "64", "--lr", "0.05", "--lr-schedule", "cosine", "--weight-decay", "1e-3");
        assertEquals(0, first.status(), first.toString());
        assertTrue(first.out().contains("lr 0.05 (peak of a cosine schedule), momentum 0.9, weight decay 0.001"), first.out());
        Cli.Run keeps = Cli.run("train", "--data", RealData.sample().toString(), "--out", scheduled.toString(), "--resume", "--backend", "java");
        assertEquals(0, keeps.status(), keeps.toString());
        assertTrue(keeps.out().contains("nothing to train"), keeps.out());
        Cli.Run otherSchedule = train(scheduled, "--epochs", "2", "--limit-train", "64", "--resume", "--lr", "0.05", "--lr-schedule", "onecycle");
        assertEquals(2, otherSchedule.status(), otherSchedule.toString());
        assertTrue(otherSchedule.err().contains("different recipe: lr_schedule is cosine in its run.json and onecycle now"), otherSchedule.toString());
        Cli.Run longer = Cli.run("train", "--data", RealData.sample().toString(), "--out", scheduled.toString(), "--resume", "--epochs", "3");
        assertEquals(2, longer.status(), longer.toString());
        assertTrue(longer.err().contains("cosine learning-rate schedule spans the run's 2 epochs"), longer.toString());

        Cli.Run nothing = train(tmp.resolve("fresh"), "--resume");
        assertEquals(2, nothing.status(), nothing.toString());
        assertTrue(nothing.err().contains("no run.json"), nothing.toString());
    }
}
