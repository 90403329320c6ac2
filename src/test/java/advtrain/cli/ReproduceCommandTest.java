package advtrain.cli;

import advtrain.data.RealData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * reproduce and demo on the committed CIFAR-10 sample. {@code reproduce --quick} runs once on it (the
 * quick plan fitted to the sample's 512 training and 256 test images) for the files test; the other
 * tests use a much smaller plan through the size options. The quick plan's result on all of CIFAR-10
 * is {@link ReproduceFullDataTest}'s.
 */
class ReproduceCommandTest {
    static final List<String> NAMES = List.of("1_training_curve", "2_pictures_vs_eps", "3_accuracy_vs_eps", "4_condition_accuracy",
            "4_condition_pictures", "5_adversarial_training", "6_per_class");

    @TempDir static Path shared;
    private static Cli.Run quick;
    private static Path quickOut;

    @BeforeAll
    static void runQuick() {
        quickOut = shared.resolve("quick");
        long start = System.nanoTime();
        quick = Cli.run("reproduce", "--quick", "--data", RealData.sample().toString(), "--out", quickOut.toString(), "--json");
        System.err.printf("reproduce --quick took %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    /** A tiny plan: 128 training images, 1 epoch, 50 test images, attacks on 20, one adversarial model. */
    private static Cli.Run tiny(String command, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--out", out.toString(), "--backend", "java",
                "--limit-train", "128", "--limit-test", "50", "--epochs", "1", "--attack-limit", "20", "--adv-eps", "0.03", "--json"));
        args.addAll(List.of("--data", RealData.sample().toString()));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void quickWritesEveryFigureWithItsCsvAndAReportThatShowsThem() throws IOException {
        assertEquals(0, quick.status(), quick.toString());
        Map<String, Object> json = quick.json();
        List<?> figures = (List<?>) json.get("figures");
        assertEquals(NAMES.size(), figures.size(), figures.toString());
        String report = Files.readString(Path.of((String) json.get("report")));
        for (String name : NAMES) {
            Path png = quickOut.resolve(name + ".png"), csv = quickOut.resolve(name + ".csv");
            assertTrue(figures.contains(png.toString()), name + " listed: " + figures);
            byte[] bytes = Files.readAllBytes(png);
            assertTrue(bytes.length > 5000, name + ".png has a picture in it: " + bytes.length + " bytes");
            assertEquals(0x89, bytes[0] & 0xFF, name + ".png is a PNG");
            assertEquals("PNG", new String(bytes, 1, 3));
            List<String> lines = Files.readAllLines(csv);
            assertTrue(lines.size() >= 3, name + ".csv has a header and rows: " + lines);
            for (String line : lines) assertFalse(line.contains("NaN"), name + ".csv: " + line);
            assertTrue(report.contains("](" + name + ".png)"), "report.md shows " + name + ".png");
            assertTrue(report.contains("(" + name + ".csv)"), "report.md links " + name + ".csv");
        }
        assertFalse(report.contains("NaN"), "every number of the report was measured");
        assertTrue(report.contains("| the seed says | this run measured | verdict |"), "the table against the seed");
        for (String claim : List.of("54 %", "imperceptible", "FGSM: fast attack", "α × steps ≥ ε", "adversarial training (α = 0.5)")) {
            assertTrue(report.contains(claim), "the table has the seed's claim " + claim);
        }
        assertTrue(report.contains("Not the seed's recipe"), "a quick run says it is not the seed's recipe");
        assertTrue(quick.out().contains("on a sample of CIFAR-10 (512 training and 256 test images)"), "the plan says it ran on the sample");
        assertEquals(512L, ((Map<?, ?>) json.get("plan")).get("train_images"), "every sample image, not the quick plan's 5,000");
        assertEquals(5, ((List<?>) json.get("claims")).size());
        assertTrue(quick.out().contains("expected duration about"), "the duration is said up front");
        assertTrue(quick.out().contains("[1/"), "progress by stage");
    }

    @Test
    void aRerunReusesTheModelsAndMeasuresTheSameNumbers(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("r");
        Cli.Run first = tiny("reproduce", out);
        assertEquals(0, first.status(), first.toString());
        assertTrue(first.out().contains("epoch 1/1:"), "the first run trains");
        List<Path> metrics = new ArrayList<>();
        try (var dirs = Files.list(out.resolve("models"))) {
            dirs.forEach(d -> metrics.add(d.resolve("metrics.csv")));
        }
        assertEquals(2, metrics.size(), "the naive model and one adversarially trained: " + metrics);
        List<String> before = new ArrayList<>();
        for (Path m : metrics) before.add(Files.readString(m));

        Cli.Run second = tiny("reproduce", out);
        assertEquals(0, second.status(), second.toString());
        assertFalse(second.out().contains("epoch 1/1:"), "nothing is trained again:\n" + second.out());
        assertEquals(2, second.out().split("reusing models/", -1).length - 1, second.out());
        for (int i = 0; i < metrics.size(); i++) assertEquals(before.get(i), Files.readString(metrics.get(i)));
        assertTrue(Files.readString(out.resolve("report.md")).contains("Models reused from an earlier run"));
        List<?> a = (List<?>) first.json().get("claims"), b = (List<?>) second.json().get("claims");
        for (int claim : new int[] {0, 1, 3, 4}) {  // claim 3 holds timings
            assertEquals(((Map<?, ?>) a.get(claim)).get("measured"), ((Map<?, ?>) b.get(claim)).get("measured"), "claim " + (claim + 1));
        }

        // Another recipe is another model: trained, not mistaken for the first.
        Cli.Run other = tiny("reproduce", out, "--lr", "0.01");
        assertEquals(0, other.status(), other.toString());
        assertTrue(other.out().contains("epoch 1/1:"), "a different lr trains new models");
    }

    @Test
    void demoRunsTheQuickReproductionOnTheJavaBackendAndSaysWhereTheReportIs(@TempDir Path tmp) {
        Cli.Run demo = tiny("demo", tmp.resolve("demo"));
        assertEquals(0, demo.status(), demo.toString());
        Path report = tmp.resolve("demo").resolve("report.md");
        assertTrue(Files.isRegularFile(report));
        assertTrue(demo.out().contains("report:  " + report), demo.out());
        assertTrue(demo.out().contains("demo: CIFAR-10 in "), demo.out());
    }

    /**
     * With no OpenCL runtime at all (the library search pointed at an empty folder, in a fresh JVM as
     * OpenClUnavailableTest does it), demo's default --backend auto falls back to Java and finishes.
     */
    @Test
    void demoWorksWithoutAnOpenclRuntime(@TempDir Path tmp) throws Exception {
        Path noLibrary = Files.createDirectories(tmp.resolve("no-opencl")), out = tmp.resolve("demo");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dadvtrain.opencl.libraryPath=" + noLibrary,
                "-cp", System.getProperty("java.class.path"), "advtrain.cli.Main", "demo", "--out", out.toString(),
                "--data", RealData.sample().toString(), "--limit-train", "128", "--limit-test", "50", "--epochs", "1",
                "--attack-limit", "20", "--adv-eps", "0.03"));
        Path stdout = tmp.resolve("out.txt"), stderr = tmp.resolve("err.txt");
        Process process = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        assertTrue(process.waitFor(240, java.util.concurrent.TimeUnit.SECONDS), "demo finished");
        String err = Files.readString(stderr), output = Files.readString(stdout);
        assertEquals(0, process.exitValue(), output + err);
        assertTrue(err.contains("backend: auto chose java: no OpenCL runtime"), err);
        assertTrue(output.contains("report:  " + out.resolve("report.md")), output);
        assertTrue(Files.isRegularFile(out.resolve("report.md")));
    }

    @Test
    void demoWithoutDataOrNetworkFailsWithOneLineSayingWhatToDo(@TempDir Path tmp) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();  // closed again: nothing listens there, the connection is refused
        }
        Path empty = Files.createDirectories(tmp.resolve("empty")), out = tmp.resolve("demo");
        Cli.Run demo = Cli.run("demo", "--data", empty.toString(), "--url", "http://127.0.0.1:" + port + "/cifar-10-binary.tar.gz",
                "--out", out.toString(), "--backend", "java");
        assertEquals(1, demo.status(), demo.toString());
        assertEquals(1, demo.errorLines().size(), demo.err());
        String line = demo.errorLines().get(0);
        assertTrue(line.contains("download failed"), line);
        assertTrue(line.contains("download --archive"), "says how to install the archive by hand: " + line);
        assertTrue(demo.out().contains("downloading it from http://127.0.0.1:" + port), demo.out());
        assertFalse(demo.err().contains("\tat "), "no stack trace");
        assertFalse(Files.exists(out), "no report folder");
        assertFalse(Files.exists(empty.resolve("cifar-10-batches-bin")), "no half-installed data");
    }

    @Test
    void badOptionsAreOneLineAndExitStatusTwo(@TempDir Path tmp) {
        for (String[] bad : List.of(new String[] {"--epochs", "0"}, new String[] {"--adv-eps", "-0.1"}, new String[] {"--adv-eps", "0"},
                new String[] {"--attack-limit", "0"}, new String[] {"--limit-train", "0"}, new String[] {"--lr", "-1"})) {
            Cli.Run run = tiny("reproduce", tmp.resolve("bad"), bad);
            assertEquals(2, run.status(), Arrays.toString(bad) + ": " + run);
            assertEquals(1, run.errorLines().size(), run.err());
            assertTrue(run.errorLines().get(0).contains(bad[0]), run.err());
            assertFalse(Files.exists(tmp.resolve("bad")), "nothing written");
        }
        Cli.Run noOut = Cli.run("reproduce", "--quick");
        assertEquals(2, noOut.status(), noOut.toString());
    }
}
