package advtrain.backend.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The table in package-info.java says which path each of the seed's convolutions takes at batch
 * 4, 32 and 256; this computes the same rows from {@link ConvPlan} and fails where they differ, so
 * the table cannot go stale. And each forced algorithm (the switch CpuKernelsTest uses to run every
 * kernel) selects the paths it names.
 */
class ConvPlanTableTest {
    private static final Path PACKAGE_INFO = Path.of("src/main/java/advtrain/backend/cpu/package-info.java");
    private static final ConvPlan.Algorithm AUTO = ConvPlan.Algorithm.AUTO;

    /** The seed's convolutions: name, input channels, height, width, output channels, kernel size (stride 1, no padding). */
    private record Layer(String name, int inChannels, int height, int width, int outChannels, int kernel) {}

    private static final List<Layer> SEED = List.of(new Layer("conv1", 3, 32, 32, 6, 5), new Layer("conv2", 6, 14, 14, 16, 5));

    /** The rows as package-info writes them: layer, batch, forward, weight gradient, input gradient. */
    static List<String> computedRows(ConvPlan plan) {
        List<String> rows = new ArrayList<>();
        for (Layer l : SEED) {
            for (int batch : new int[] {4, 32, 256}) {
                ConvPlan.Forward forward = plan.forward(1, l.outChannels(), AUTO);
                ConvPlan.WeightGradient weight = plan.weightGradient(batch, l.inChannels(), l.height(), l.width(), l.outChannels(),
                        l.kernel(), l.kernel(), 1, 0, AUTO);
                ConvPlan.InputGradient input = plan.inputGradient(batch, l.inChannels(), l.height(), l.kernel(), l.kernel(), 1, 0, AUTO);
                boolean inGroups = weight == ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS && input != ConvPlan.InputGradient.LANES;
                rows.add(String.join(" | ", l.name(), String.valueOf(batch), forward.name(), weight.name(),
                        input.name() + (inGroups ? ", in the groups" : "")));
            }
        }
        return rows;
    }

    /** The convolution rows of package-info's table: each row's first five cells, tags removed. */
    static List<String> documentedRows() throws IOException {
        String text = Files.readString(PACKAGE_INFO).replaceAll("\\s*\\n\\s*\\*\\s*", " ");
        Matcher row = Pattern.compile("<tr><td>(conv\\d)</td>(.*?)</tr>").matcher(text);
        List<String> rows = new ArrayList<>();
        while (row.find()) {
            List<String> cells = new ArrayList<>(List.of(row.group(1)));
            Matcher cell = Pattern.compile("<td>(.*?)</td>").matcher(row.group(2));
            while (cell.find() && cells.size() < 5) cells.add(cell.group(1).trim());
            rows.add(String.join(" | ", cells));
        }
        return rows;
    }

    @Test
    void packageInfoTableIsWhatThePlanChoosesWithAvx512Vectors() throws IOException {
        assertEquals(String.join("\n", computedRows(new ConvPlan(16))), String.join("\n", documentedRows()),
                "package-info.java's table against ConvPlan (16-float vectors)");
    }

    @Test
    void avx2VectorsChooseTheSameConvolutionPaths() throws IOException {
        assertEquals(String.join("\n", computedRows(new ConvPlan(8))), String.join("\n", documentedRows()),
                "package-info.java says 8-float vectors give the same convolution rows");
    }

    @Test
    void eachForcedAlgorithmSelectsThePathsItNames() {
        ConvPlan plan = new ConvPlan(16);
        // conv2 at batch 4: AUTO takes CHANNELS, CHANNELS, by filter row, so every forced path below is a change.
        assertEquals(ConvPlan.Forward.IM2COL, plan.forward(1, 16, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.WeightGradient.IM2COL, plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.InputGradient.COL2IM, plan.inputGradient(4, 6, 14, 5, 5, 1, 0, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 16, ConvPlan.Algorithm.DIRECT));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS, plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.DIRECT));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS,
                plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.GROUPS));
        assertEquals(ConvPlan.InputGradient.LANES, plan.inputGradient(4, 6, 14, 5, 5, 1, 0, ConvPlan.Algorithm.LANES));
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(1, 16, ConvPlan.Algorithm.CHANNELS));
        // Paths that do not apply fall back: CHANNELS needs whole vectors of output channels, all but im2col stride 1.
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 6, ConvPlan.Algorithm.CHANNELS));
        assertEquals(ConvPlan.Forward.IM2COL, plan.forward(2, 16, ConvPlan.Algorithm.CHANNELS));
        assertEquals(ConvPlan.InputGradient.COL2IM, plan.inputGradient(32, 6, 14, 5, 5, 2, 0, ConvPlan.Algorithm.LANES));
    }
}
