package advtrain.cli;

import advtrain.backend.cpu.CpuBackend;
import advtrain.io.Json;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input from a hostile or careless user, through the whole command line: hostile model files,
 * paths that are not files, corrupt data, bad options, output paths that cannot be written. Every
 * case must end in one line on stderr that names the problem, the right exit status (2: usage,
 * 1: at run time), no stack trace, no output written, and under --json a last stdout line
 * {"error": the same line, "exit": the status}. None of these needs CIFAR-10.
 */
class HostileInputTest {
    @TempDir static Path dir;
    static Path goodModel;

    @BeforeAll
    static void writeAGoodModel() throws IOException {
        goodModel = dir.resolve("good.safetensors");
        ModelFiles.save(new Net(new CpuBackend(), 1), new CpuBackend(), goodModel, null);
    }

    /**
     * Runs the command line twice, plain and with --json, and checks the failure both ways.
     * Returns the message.
     */
    private static String assertFails(int status, List<String> fragments, String... args) {
        Cli.Run plain = Cli.run(args);
        assertOneLineFailure(plain, status, fragments);
        List<String> withJson = new ArrayList<>(Arrays.asList(args));
        withJson.add("--json");
        Cli.Run json = Cli.run(withJson.toArray(String[]::new));
        assertOneLineFailure(json, status, fragments);
        List<String> lines = json.out().lines().toList();
        assertFalse(lines.isEmpty(), "--json prints the error object: " + json);
        Object parsed = Json.parse(lines.get(lines.size() - 1));
        assertEquals(Map.of("error", message(json), "exit", (long) status), parsed, "the last stdout line under --json: " + json);
        return message(json);
    }

    private static void assertOneLineFailure(Cli.Run run, int status, List<String> fragments) {
        assertEquals(status, run.status(), run.toString());
        assertEquals(1, run.errorLines().size(), "one error line: " + run);
        assertFalse(run.err().contains("\tat ") || run.err().contains("Exception"), "no stack trace or exception name: " + run);
        for (String f : fragments) assertTrue(run.errorLines().get(0).contains(f), "should say \"" + f + "\": " + run);
    }

    /** The error line without its "advtrain COMMAND: " prefix. */
    private static String message(Cli.Run run) {
        String line = run.errorLines().get(0);
        return line.substring(line.indexOf(": ") + 2);
    }

    private static Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo is not available here");
        return fifo;
    }

    /** A safetensors file with this header text and these data bytes. */
    private static Path rawModel(String name, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    // ---- hostile model files and paths that are not files ---------------------------------------

    @Test
    void aFolderFifoOrDeviceGivenAsModelIsCalledWhatItIs() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("a-folder"));
        Path fifo = fifo("model-fifo");
        for (String command : List.of("eval", "attack", "sweep")) {
            List<String> base = new ArrayList<>(List.of(command, "--backend", "java"));
            if (command.equals("sweep")) base.addAll(List.of("--out", dir.resolve("never").toString()));
            String[] args = base.toArray(String[]::new);
            assertFails(1, List.of(folder.toString(), "is a folder, not a file"), concat(args, "--model", folder.toString()));
            assertFails(1, List.of(fifo.toString(), "not a regular file"), concat(args, "--model", fifo.toString()));
            assertFails(1, List.of("/dev/null", "not a regular file"), concat(args, "--model", "/dev/null"));
            assertFails(1, List.of("no such file"), concat(args, "--model", dir.resolve("absent.safetensors").toString()));
        }
        assertFails(1, List.of("--init", "is a folder"), "train", "--out", dir.resolve("r").toString(), "--init", folder.toString());
        assertFalse(Files.exists(dir.resolve("never")) || Files.exists(dir.resolve("r")), "nothing written");
    }

    @Test
    void aFolderOrFifoGivenAsArchiveIsCalledWhatItIs() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("archive-folder"));
        Path data = dir.resolve("download-data");
        assertFails(1, List.of("--archive", "is a folder, not a file"), "download", "--data", data.toString(), "--archive", folder.toString());
        assertFails(1, List.of("--archive", "not a regular file"), "download", "--data", data.toString(), "--archive", fifo("archive-fifo").toString());
    }

    @Test
    void bytesAfterTheLastTensorOrHugeOffsetsAreNamed() throws IOException {
        byte[] good = Files.readAllBytes(goodModel);
        Path trailing = dir.resolve("trailing.safetensors");
        Files.write(trailing, Arrays.copyOf(good, good.length + 8));
        assertFails(1, List.of(trailing.toString(), "8 bytes after the last tensor"), "eval", "--model", trailing.toString(), "--backend", "java");

        Path huge = rawModel("huge-offsets.safetensors",
                "{\"fc3.bias\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[4611686018427387904,4611686018427387944]}}", new byte[40]);
        assertFails(1, List.of(huge.toString(), "[4611686018427387904, 4611686018427387904]", "not whole byte offsets within the 40 data bytes"),
                "eval", "--model", huge.toString(), "--backend", "java");
    }

    // ---- corrupt data ---------------------------------------------------------------------------

    @Test
    void truncatedDataFilesAreNamed() throws IOException {
        Path data = Files.createDirectories(dir.resolve("truncated-data"));
        for (String name : List.of("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")) {
            Files.write(data.resolve(name + ".bin"), new byte[3073 * 7 + 5]);
        }
        assertFails(1, List.of(data.resolve("test_batch.bin").toString(), "truncated"),
                "eval", "--model", goodModel.toString(), "--data", data.toString(), "--backend", "java");
    }

    // ---- bad options ----------------------------------------------------------------------------

    @Test
    void anEpsAboveOneIsRefusedWithAHintAboutUnits() {
        String message = assertFails(2, List.of("--eps 8 is above 1", "8/255"),
                "attack", "--model", goodModel.toString(), "--eps", "8", "--backend", "java");
        assertTrue(message.contains("0.0314"), message);
        assertFails(2, List.of("--eps 30 is above 1"), "sweep", "--model", goodModel.toString(), "--out", dir.resolve("never").toString(),
                "--eps", "0,30");
        assertFails(2, List.of("--adv-eps 8 is above 1"), "train", "--out", dir.resolve("never").toString(), "--adv", "fgsm", "--adv-eps", "8");
        assertFails(2, List.of("--adv-eps 4 is above 1"), "reproduce", "--out", dir.resolve("never").toString(), "--adv-eps", "4");
        assertFalse(Files.exists(dir.resolve("never")), "nothing written");
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        String out = dir.resolve("never").toString();
        assertFails(2, List.of("--epochs must be >= 1"), "train", "--out", out, "--epochs", "0");
        assertFails(2, List.of("--lr"), "train", "--out", out, "--lr", "-1");
        assertFails(2, List.of("--steps must be >= 1"), "attack", "--model", goodModel.toString(), "--steps", "0");
        assertFails(2, List.of("--eps must be a number >= 0"), "attack", "--model", goodModel.toString(), "--eps", "-0.1");
        assertFails(2, List.of("unknown backend 'tpu'"), "eval", "--model", goodModel.toString(), "--backend", "tpu");
        assertFails(2, List.of("--no-such-option"), "train", "--out", out, "--no-such-option");
        assertFalse(Files.exists(dir.resolve("never")), "nothing written");
    }

    /** A broken run.json is a broken file, not bad usage: the IllegalArgumentException it causes inside is exit status 1. */
    @Test
    void aMalformedRunJsonIsARuntimeFailureNotAUsageError() throws IOException {
        Path run = Files.createDirectories(dir.resolve("broken-run"));
        Files.writeString(run.resolve("run.json"), "{\"options\": {\"epochs\": \"three\"}, \"objective\": {}}");
        assertFails(1, List.of("run.json"), "train", "--out", run.toString(), "--resume", "--backend", "java");
    }

    // ---- output paths refused before any work ---------------------------------------------------

    @Test
    void outputPathsThatCannotBeWrittenAreRefusedBeforeAnyWork() throws IOException {
        // The data folder does not exist: a command that reached its work would say so instead.
        String noData = dir.resolve("no-data-here").toString();
        Path file = Files.writeString(dir.resolve("a-file.txt"), "not a folder");
        assertFails(2, List.of("--out " + file, "is a file, not a folder"),
                "sweep", "--model", goodModel.toString(), "--out", file.toString(), "--data", noData, "--backend", "java");
        Path csvFolder = Files.createDirectories(dir.resolve("sweep-out").resolve(SweepCommand.CSV));
        assertFails(2, List.of(csvFolder.toString(), "is a folder"),
                "sweep", "--model", goodModel.toString(), "--out", csvFolder.getParent().toString(), "--data", noData, "--backend", "java");
        Path gridFolder = Files.createDirectories(dir.resolve("grid-folder"));
        assertFails(2, List.of("--save-grid " + gridFolder, "is a folder"),
                "attack", "--model", goodModel.toString(), "--save-grid", gridFolder.toString(), "--data", noData, "--backend", "java");
        assertFails(2, List.of("--save-grid", file + " is a file, not a folder"),
                "attack", "--model", goodModel.toString(), "--save-grid", file.resolve("grid.png").toString(), "--data", noData, "--backend", "java");
        assertEquals("not a folder", Files.readString(file), "untouched");
    }

    private static String[] concat(String[] head, String... tail) {
        String[] all = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }
}
