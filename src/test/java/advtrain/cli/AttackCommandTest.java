package advtrain.cli;

import advtrain.attack.TrainedModels;
import advtrain.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The attack and sweep commands as a user runs them: exit status, text, --json, files, errors. */
class AttackCommandTest {
    @TempDir static Path dir;
    static Path model;
    static final String DATA = TrainedModels.data().toString();  // the committed CIFAR-10 sample

    @BeforeAll
    static void saveModel() throws Exception {
        model = TrainedModels.saveModel(dir);
    }

    /** Exit status, stdout and stderr of one command line. */
    record Run(int status, String out, String err) {
        Map<?, ?> json() {
            String[] lines = out.strip().split("\n");
            return (Map<?, ?>) Json.parse(lines[lines.length - 1]);
        }

        /** The error lines (not progress or the backend note). */
        List<String> errorLines() {
            List<String> list = new ArrayList<>();
            for (String line : err.split("\n")) if (line.startsWith("advtrain")) list.add(line);
            return list;
        }
    }

    static synchronized Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Main.run(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static String[] attack(String... more) {
        List<String> args = new ArrayList<>(List.of("attack", "--data", DATA, "--model", model.toString(), "--backend", "java", "--limit-test", "64", "--batch", "32"));
        args.addAll(Arrays.asList(more));
        return args.toArray(new String[0]);
    }

    private static double number(Map<?, ?> json, String key) {
        assertTrue(json.containsKey(key), "JSON has " + key + ": " + json.keySet());
        return ((Number) json.get(key)).doubleValue();
    }

    @Test
    void fgsmReportsItsJsonFieldsConsistently() {
        Run r = run(attack("--attack", "fgsm", "--eps", "0.03", "--json"));
        assertEquals(0, r.status, r.err);
        Map<?, ?> json = r.json();
        assertEquals(64, number(json, "n"));
        assertEquals(0.03, number(json, "eps"), 1e-7);
        double clean = number(json, "clean_accuracy"), robust = number(json, "robust_accuracy"), success = number(json, "success_rate");
        assertTrue(robust < clean && clean > 0.15, "clean " + clean + ", robust " + robust);
        assertEquals(number(json, "robust_correct") / 64, robust, 1e-12);
        assertEquals(number(json, "successes") / number(json, "clean_correct"), success, 1e-12);
        assertTrue(number(json, "seconds") > 0 && number(json, "images_per_second") > 0);
        List<?> perClass = (List<?>) json.get("per_class");
        assertEquals(10, perClass.size());
        Map<?, ?> airplane = (Map<?, ?>) perClass.get(0), truck = (Map<?, ?>) perClass.get(9);
        assertEquals("airplane", airplane.get("class"));
        assertEquals("truck", truck.get("class"));
        double n = 0;
        for (Object row : perClass) n += ((Number) ((Map<?, ?>) row).get("n")).doubleValue();
        assertEquals(64, n);
        List<?> ci = (List<?>) json.get("robust_accuracy_ci95");
        assertTrue(((Number) ci.get(0)).doubleValue() <= robust && robust <= ((Number) ci.get(1)).doubleValue(), "interval " + ci);
        assertInstanceOf(List.class, json.get("warnings"));
        assertTrue(r.out.contains("robust accuracy:") && r.out.contains("per class robust"), r.out);
    }

    @Test
    void pgdWritesTheGridAndChecksItselfAgainstFgsm() throws Exception {
        Path grid = dir.resolve("pictures").resolve("grid.png");
        Run r = run(attack("--attack", "pgd", "--eps", "8/255", "--steps", "3", "--json", "--save-grid", grid.toString(),
                "--grid-eps", "0,0.02", "--grid-rows", "3"));
        assertEquals(0, r.status, r.err);
        Map<?, ?> json = r.json();
        assertEquals(8 / 255.0, number(json, "eps"), 1e-7);
        assertEquals(3, number(json, "steps"));
        assertEquals(8 / 255.0 / 4, number(json, "step_size"), 1e-7);
        List<?> warnings = (List<?>) json.get("warnings");
        assertTrue(warnings.stream().anyMatch(w -> w.toString().contains("necessary condition")), "3 x eps/4 < eps: " + warnings);
        assertTrue(r.err.contains("warning: "), "warnings also go to stderr");
        BufferedImage png = ImageIO.read(grid.toFile());
        assertNotNull(png, "a readable PNG");
        assertTrue(png.getWidth() > 5 * 96 && png.getHeight() > 3 * 96, png.getWidth() + "x" + png.getHeight());
        try (Stream<Path> files = Files.list(grid.getParent())) {
            assertEquals(List.of(grid), files.toList(), "no temporary files left");
        }
    }

    @Test
    void sweepWritesCsvPngAndRows() throws Exception {
        Path out = dir.resolve("sweep");
        Run r = run("sweep", "--data", DATA, "--model", model.toString(), "--out", out.toString(), "--backend", "java", "--limit-test", "48",
                "--eps", "0,0.03", "--steps", "2", "--step-size", "0.02", "--json");
        assertEquals(0, r.status, r.err);
        Map<?, ?> json = r.json();
        List<?> rows = (List<?>) json.get("rows");
        assertEquals(4, rows.size());
        double clean = number(json, "clean_accuracy");
        for (Object o : rows) {
            Map<?, ?> row = (Map<?, ?>) o;
            assertTrue(List.of("fgsm", "pgd").contains(row.get("attack")));
            double eps = number(row, "eps"), robust = number(row, "robust_accuracy");
            if (eps == 0) assertEquals(clean, robust, "eps = 0 is the clean accuracy");
            else assertTrue(robust < clean);
        }
        Path csv = Path.of((String) json.get("csv")), png = Path.of((String) json.get("png"));
        assertEquals(out.resolve("accuracy_vs_eps.csv"), csv);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(5, lines.size());
        assertTrue(lines.get(0).startsWith("attack,norm,eps,"));
        assertNotNull(ImageIO.read(png.toFile()));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(2, files.filter(f -> !f.getFileName().toString().equals(advtrain.io.FolderLock.FILE)).count(),
                    "only the CSV and the PNG (and the folder's lock file)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--eps=-0.1", "--eps=NaN", "--eps=abc", "--eps=1/0", "--steps=0", "--step-size=0", "--step-size=-1",
            "--restarts=0", "--norm=l3", "--attack=cw", "--target=12", "--batch=0"})
    void badOptionsEndWithOneLineAndStatusTwo(String option) {
        Run r = run(attack(option));
        assertEquals(2, r.status, option + ": " + r.err);
        assertEquals(1, r.errorLines().size(), r.err);
        assertFalse(r.err.contains("\tat "), "no stack trace");
        String name = option.substring(0, option.indexOf('='));
        assertTrue(r.errorLines().get(0).contains(name), r.err);
    }

    @Test
    void badSweepListsAreUsageErrors() {
        for (String[] args : List.of(new String[] {"--eps", "0,-1"}, new String[] {"--attacks", "fgsm,deepfool"}, new String[] {"--eps", ""})) {
            List<String> all = new ArrayList<>(List.of("sweep", "--data", DATA, "--model", model.toString(), "--out", dir.resolve("never").toString()));
            all.addAll(Arrays.asList(args));
            Run r = run(all.toArray(new String[0]));
            assertEquals(2, r.status, Arrays.toString(args) + ": " + r.err);
            assertEquals(1, r.errorLines().size(), r.err);
            assertFalse(Files.exists(dir.resolve("never")), "nothing written");
        }
    }

    @Test
    void missingOrHostileModelFilesEndWithOneLineAndStatusOne() throws Exception {
        Run missing = run("attack", "--data", DATA, "--model", dir.resolve("nope.safetensors").toString(), "--limit-test", "8");
        assertEquals(1, missing.status, missing.err);
        assertEquals(1, missing.errorLines().size(), missing.err);
        assertTrue(missing.err.contains("--model " + dir.resolve("nope.safetensors") + ": no such file"), missing.err);

        Path garbage = dir.resolve("garbage.safetensors");
        Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, '{', '}'});
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        Path foreign = dir.resolve("foreign.safetensors");
        advtrain.io.Safetensors.write(foreign, Map.of("conv1.weight", new advtrain.tensor.HostTensor(advtrain.tensor.Shape.of(2), new float[2])), null);
        Path nan = dir.resolve("nan.safetensors");
        Map<String, advtrain.tensor.HostTensor> weights = new java.util.LinkedHashMap<>(TrainedModels.weights());
        float[] bias = new float[10];
        bias[3] = Float.NaN;
        weights.put("fc3.bias", new advtrain.tensor.HostTensor(advtrain.tensor.Shape.of(10), bias));
        advtrain.io.Safetensors.write(nan, weights, null);
        for (Path bad : List.of(garbage, empty, foreign, nan)) {
            Run r = run("attack", "--data", DATA, "--model", bad.toString(), "--backend", "java", "--limit-test", "8");
            assertEquals(1, r.status, bad + ": " + r.err);
            assertEquals(1, r.errorLines().size(), r.err);
            assertTrue(r.errorLines().get(0).contains(bad.toString()), "the message names the file: " + r.err);
            assertFalse(r.err.contains("\tat "), "no stack trace");
        }
        Run debug = run("attack", "--data", DATA, "--model", garbage.toString(), "--backend", "java", "--limit-test", "8", "--debug");
        assertTrue(debug.err.contains("\tat "), "--debug shows the stack trace");
    }
}
