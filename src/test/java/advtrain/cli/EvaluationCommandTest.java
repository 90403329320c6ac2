package advtrain.cli;

import advtrain.attack.TrainedModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The evaluation attacks from the command line: AutoAttack, Square, transfer, intervals, sweep's CSV. */
class EvaluationCommandTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void saveModel() throws Exception {
        TrainedModels.data();
        model = TrainedModels.saveModel(dir);
    }

    private static Map<?, ?> attack(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("attack", "--data", AttackCommandTest.DATA, "--model", model.toString(), "--backend", "java",
                "--limit-test", "24", "--batch", "16", "--json"));
        args.addAll(List.of(more));
        AttackCommandTest.Run r = AttackCommandTest.run(args.toArray(new String[0]));
        assertEquals(0, r.status(), r.err());
        return r.json();
    }

    private static double number(Object value) { return ((Number) value).doubleValue(); }

    @Test
    void autoAttackNamesItsMembersAndReportsEachOne() {
        Map<?, ?> json = attack("--attack", "autoattack", "--eps", "0.01", "--steps", "4", "--queries", "20");
        assertEquals("autoattack", json.get("attack"));
        assertTrue(String.valueOf(json.get("attack_name")).contains("FAB-T not included"), String.valueOf(json.get("attack_name")));
        List<?> stages = (List<?>) json.get("attacks");
        assertEquals(3, stages.size());
        double last = number(((Map<?, ?>) stages.get(2)).get("robust_accuracy"));
        assertEquals(number(json.get("robust_accuracy")), last, 1e-12);
        List<?> ci = (List<?>) json.get("robust_accuracy_ci95");
        assertTrue(number(ci.get(0)) <= last && last <= number(ci.get(1)));
        Map<?, ?> queries = (Map<?, ?>) json.get("queries");
        assertNotNull(queries.get("mean"), "some images were left for Square (at eps 0.01): " + queries);
        assertTrue(number(queries.get("mean")) >= 1 && number(queries.get("mean")) <= 20, queries.toString());
        assertEquals(10, ((List<?>) json.get("per_class")).size());
    }

    @Test
    void squareReportsQueriesAndTransferNamesItsSource() {
        Map<?, ?> square = attack("--attack", "square", "--eps", "0.05", "--queries", "30");
        Map<?, ?> queries = (Map<?, ?>) square.get("queries");
        double mean = number(queries.get("mean")), median = number(queries.get("median")), total = number(queries.get("total"));
        assertTrue(mean >= 1 && mean <= 30 && median >= 1 && median <= 30, queries.toString());
        assertEquals(total, mean * number(queries.get("images")), 1e-6);
        Map<?, ?> transfer = attack("--attack", "apgd-ce", "--steps", "5", "--source-model", model.toString());
        assertEquals(model.toString(), transfer.get("source_model"));
        Map<?, ?> direct = attack("--attack", "apgd-ce", "--steps", "5");
        assertEquals(number(direct.get("robust_accuracy")), number(transfer.get("robust_accuracy")), 1e-12,
                "a transfer from the model to itself is the white-box attack");
    }

    @Test
    void badSettingsAreUsageErrors() {
        AttackCommandTest.Run square = AttackCommandTest.run("attack", "--data", AttackCommandTest.DATA, "--model", model.toString(), "--attack", "square", "--norm", "l2");
        assertEquals(2, square.status(), square.err());
        AttackCommandTest.Run queries = AttackCommandTest.run("attack", "--data", AttackCommandTest.DATA, "--model", model.toString(), "--attack", "square", "--queries", "0");
        assertEquals(2, queries.status(), queries.err());
        AttackCommandTest.Run unknown = AttackCommandTest.run("attack", "--data", AttackCommandTest.DATA, "--model", model.toString(), "--attack", "cw");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("apgd-ce") && unknown.err().contains("autoattack"), unknown.err());
    }

    @Test
    void sweepTakesTheNewAttacksAndWritesIntervalsAndClasses() throws Exception {
        Path out = dir.resolve("sweep");
        AttackCommandTest.Run r = AttackCommandTest.run("sweep", "--data", AttackCommandTest.DATA, "--model", model.toString(), "--out", out.toString(), "--backend", "java",
                "--limit-test", "16", "--attacks", "apgd-dlr,square", "--eps", "0,0.03", "--steps", "3", "--queries", "10", "--json");
        assertEquals(0, r.status(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("accuracy_vs_eps.csv"));
        assertEquals(5, csv.size());
        assertTrue(csv.get(0).contains("robust_ci95_low,robust_ci95_high") && csv.get(0).endsWith("robust_truck"), csv.get(0));
        assertTrue(csv.get(1).startsWith("apgd-dlr,linf,0,") && csv.get(4).startsWith("square,linf,0.03,"), String.join("\n", csv));
        assertEquals(csv.get(0).split(",").length, csv.get(1).split(",", -1).length);
    }
}
