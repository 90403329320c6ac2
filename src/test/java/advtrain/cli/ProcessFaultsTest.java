package advtrain.cli;

import advtrain.data.RealData;
import advtrain.io.FolderLock;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.testing.SmallDisk;
import advtrain.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Faults from outside the process, on real child processes (`java -cp ... advtrain.cli.Main`):
 * kill -9 in the middle of an epoch and a resume that ends bit-identical to an uninterrupted run,
 * SIGTERM, two processes given one run folder, and a disk that fills up during training.
 */
class ProcessFaultsTest {
    /** A small recipe: a few seconds per run. */
    private static List<String> recipe(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", RealData.sample().toString(), "--out", out.toString(),
                "--limit-train", "320", "--limit-test", "100", "--backend", "java"));
        args.addAll(Arrays.asList(more));
        if (!args.contains("--seed")) args.addAll(List.of("--seed", "3"));
        return args;
    }

    /** Starts advtrain's command line in a new JVM, stdout and stderr to files beside {@code out}. */
    private static Process start(Path logs, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectOutput(logs.resolve("child.out").toFile())
                .redirectError(logs.resolve("child.err").toFile()).start();
    }

    private static void await(String what, BooleanSupplier condition, Process child, Path logs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            if (!child.isAlive()) fail("the child ended (exit " + child.exitValue() + ") before " + what + ": " + Files.readString(logs.resolve("child.err")));
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    private static int metricsRows(Path run) {
        try {
            return Files.isRegularFile(run.resolve(TrainingRun.METRICS_FILE)) ? Files.readAllLines(run.resolve(TrainingRun.METRICS_FILE)).size() - 1 : 0;
        } catch (IOException e) {
            return 0;  // being replaced this very moment
        }
    }

    private static void assertSameTensors(Path a, Path b) throws IOException {
        Map<String, HostTensor> x = Safetensors.read(a).tensors(), y = Safetensors.read(b).tensors();
        assertEquals(x.keySet(), y.keySet());
        for (String name : x.keySet()) assertArrayEquals(x.get(name).values(), y.get(name).values(), a.getFileName() + ": " + name + " bit-identical");
    }

    @Test
    void killNineMidEpochThenResumeWithOnlyOutEndsBitIdentical(@TempDir Path tmp) throws Exception {
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        Cli.Run uninterrupted = Cli.run(recipe(straight, "--epochs", "3").toArray(String[]::new));
        assertEquals(0, uninterrupted.status(), uninterrupted.toString());

        Process child = start(tmp, recipe(killed, "--epochs", "3"));
        try {
            await("epoch 1's metrics row", () -> metricsRows(killed) >= 1, child, tmp);
            assertTrue(child.isAlive(), "still training epoch 2");
            child.destroyForcibly();  // SIGKILL: no shutdown hook runs
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
        Map<String, Object> runJson = TrainingRun.readRunJson(killed);
        assertTrue(((Number) runJson.get("epochs_completed")).intValue() < 3, "killed before the end: " + runJson);
        assertEquals("running", runJson.get("status"), "a killed process cannot say so");
        assertEquals("interrupted", TrainingRun.status(killed), "but nobody holds the folder: interrupted");

        // What a kill in the middle of a write leaves beside the whole file; resuming clears it.
        Path leftover = Files.writeString(killed.resolve(".model.safetensors.4242.tmp"), "half a file");
        // Only --out and --resume: the recipe, the data folder and the backend come from run.json.
        Cli.Run resumed = Cli.run("train", "--out", killed.toString(), "--resume", "--json");
        assertEquals(0, resumed.status(), resumed.toString());
        assertTrue(resumed.out().contains("(interrupted)"), resumed.out());
        assertFalse(resumed.err().contains("warning"), resumed.err());
        assertEquals("java", resumed.json().get("backend"));
        assertFalse(Files.exists(leftover), "the killed write's temp file is gone");
        for (String file : List.of(TrainingRun.MODEL_FILE, TrainingRun.STATE_FILE)) assertSameTensors(straight.resolve(file), killed.resolve(file));
        List<String> m1 = Files.readAllLines(straight.resolve(TrainingRun.METRICS_FILE)), m2 = Files.readAllLines(killed.resolve(TrainingRun.METRICS_FILE));
        assertEquals(4, m2.size(), "header and three epochs: " + m2);
        for (int row = 0; row < m1.size(); row++) {
            assertEquals(List.of(m1.get(row).split(",")).subList(0, 5), List.of(m2.get(row).split(",")).subList(0, 5), "row " + row + " up to the timings");
        }
        Map<String, Object> after = TrainingRun.readRunJson(killed);
        assertEquals("completed", after.get("status"));
        Map<?, ?> options = (Map<?, ?>) after.get("options");
        assertEquals("java", options.get("backend"), "the backend the run was trained on");
        assertEquals(RealData.sample().toAbsolutePath().normalize().toString(), options.get("data"));
        assertEquals("java", ((Map<?, ?>) after.get("backend")).get("name"));
    }

    @Test
    void aSecondProcessOnTheSameRunFolderStopsAndSigtermMarksTheRunInterrupted(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        Process first = start(tmp, recipe(run, "--epochs", "200"));
        try {
            await("the first process to hold the folder", () -> FolderLock.isHeld(run) && Files.exists(run.resolve(TrainingRun.RUN_FILE)), first, tmp);
            Cli.Run second = Cli.run(recipe(run, "--epochs", "1", "--seed", "4", "--json").toArray(String[]::new));
            assertEquals(1, second.status(), second.toString());
            assertEquals(1, second.errorLines().size(), second.toString());
            assertTrue(second.errorLines().get(0).contains("is in use by another advtrain process (pid " + first.pid() + " on "), second.toString());
            assertEquals(1L, second.json().get("exit"));
            Cli.Run resume = Cli.run("train", "--out", run.toString(), "--resume");
            assertEquals(1, resume.status(), "--resume waits its turn too: " + resume);

            first.destroy();  // SIGTERM
            assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        } finally {
            first.destroyForcibly();
        }
        Map<String, Object> runJson = TrainingRun.readRunJson(run);
        assertEquals("interrupted", runJson.get("status"), runJson.toString());
        assertEquals(3L, ((Map<?, ?>) runJson.get("options")).get("seed"), "the first process's run, untouched by the second");
        assertFalse(FolderLock.isHeld(run), "the lock ends with its process");
    }

    @Test
    void aSweepIntoAFolderInUseStopsBeforeWriting(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("m.safetensors");
        advtrain.nn.ModelFiles.save(new advtrain.nn.Net(new advtrain.backend.cpu.CpuBackend(), 1), new advtrain.backend.cpu.CpuBackend(), model, null);
        Path out = tmp.resolve("sweep");
        try (FolderLock held = FolderLock.acquire(out, "--out", "test")) {
            Cli.Run sweep = Cli.run("sweep", "--model", model.toString(), "--out", out.toString(), "--data", RealData.sample().toString(),
                    "--limit-test", "8", "--eps", "0", "--attacks", "fgsm", "--backend", "java");
            assertEquals(1, sweep.status(), sweep.toString());
            assertTrue(sweep.errorLines().get(0).contains("is in use"), sweep.toString());
        }
        assertFalse(Files.exists(out.resolve(SweepCommand.CSV)));
    }

    /**
     * A disk that fills up in epoch 2: exit 1 naming the file, run.json "failed" with the reason,
     * and metrics.csv holding only the epochs whose checkpoint was written. Needs a small tmpfs,
     * which root can mount (here and in CI); skipped elsewhere.
     */
    @Test
    void aFullDiskNamesTheFileAndLeavesNoMetricsRowWithoutItsCheckpoint(@TempDir Path tmp) throws Exception {
        Path data = RealData.sample();
        // model.safetensors is 248 KB and optimizer.safetensors 496 KB: epoch 1 fits in 1000 KB, epoch 2's new state does not.
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("small-disk"), "1000k")) {
            Path run = disk.root.resolve("run");
            Cli.Run full = Cli.run("train", "--data", data.toString(), "--out", run.toString(), "--limit-train", "300", "--limit-test", "50",
                    "--backend", "java", "--epochs", "3", "--json");
            assertEquals(1, full.status(), full.toString());
            assertEquals(1, full.errorLines().size(), full.toString());
            String line = full.errorLines().get(0);
            assertTrue(line.contains("No space left on device") && line.contains(run.resolve(TrainingRun.STATE_FILE).toString()), line);
            assertEquals(1L, full.json().get("exit"));

            int checkpointed = Integer.parseInt(Safetensors.read(run.resolve(TrainingRun.STATE_FILE)).metadata().get("epochs_completed"));
            assertEquals(1, checkpointed);
            assertEquals(checkpointed, metricsRows(run), "no metrics row without its checkpoint");
            Map<String, Object> runJson = TrainingRun.readRunJson(run);
            assertEquals("failed", runJson.get("status"));
            assertTrue(runJson.get("message").toString().contains("No space left on device"), runJson.toString());
            try (var files = Files.list(run)) {
                assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temp file left");
            }
        }
    }
}
