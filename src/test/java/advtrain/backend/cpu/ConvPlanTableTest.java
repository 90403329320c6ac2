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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table in package-info.java says which path each of the seed's convolutions takes at batch
 * 4, 32 and 256, and each of ResNet-20's at batch 128 (training) and 256 (inference); this computes
 * the same rows from {@link ConvPlan} and fails where they differ, so the table cannot go stale. And each forced algorithm (the switch CpuKernelsTest uses to run every
 * kernel) selects the paths it names.
 */
class ConvPlanTableTest {
    private static final Path PACKAGE_INFO = Path.of("src/main/java/advtrain/backend/cpu/package-info.java");
    private static final ConvPlan.Algorithm AUTO = ConvPlan.Algorithm.AUTO;

    /** A convolution: name, input channels, height, width, output channels, kernel size, stride, padding, the batches tabled. */
    private record Layer(String name, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding,
                         int... batches) {}

    private static final List<Layer> LAYERS = List.of(
            new Layer("conv1", 3, 32, 32, 6, 5, 1, 0, 4, 32, 256), new Layer("conv2", 6, 14, 14, 16, 5, 1, 0, 4, 32, 256),
            new Layer("resnet20 conv1", 3, 32, 32, 16, 3, 1, 1, 128, 256),
            new Layer("resnet20 layer1", 16, 32, 32, 16, 3, 1, 1, 128, 256),
            new Layer("resnet20 layer2.0.conv1", 16, 32, 32, 32, 3, 2, 1, 128, 256),
            new Layer("resnet20 layer2", 32, 16, 16, 32, 3, 1, 1, 128, 256),
            new Layer("resnet20 layer3.0.conv1", 32, 16, 16, 64, 3, 2, 1, 128, 256),
            new Layer("resnet20 layer3", 64, 8, 8, 64, 3, 1, 1, 128, 256),
            new Layer("resnet20 shortcut 16-32", 16, 32, 32, 32, 1, 2, 0, 128, 256),
            new Layer("resnet20 shortcut 32-64", 32, 16, 16, 64, 1, 2, 0, 128, 256));

    /** The rows as package-info writes them: layer, batch, forward, weight gradient, input gradient. */
    static List<String> computedRows(ConvPlan plan) {
        List<String> rows = new ArrayList<>();
        for (Layer l : LAYERS) {
            for (int batch : l.batches()) {
                ConvPlan.Forward forward = plan.forward(l.stride(), l.inChannels(), l.outChannels(), l.height(), l.width(), l.kernel(), l.kernel(), l.padding(), AUTO);
                ConvPlan.WeightGradient weight = plan.weightGradient(batch, l.inChannels(), l.height(), l.width(), l.outChannels(),
                        l.kernel(), l.kernel(), l.stride(), l.padding(), AUTO);
                ConvPlan.InputGradient input = plan.inputGradient(batch, l.inChannels(), l.height(), l.kernel(), l.kernel(), l.stride(),
                        l.padding(), AUTO);
                boolean inGroups = weight == ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS
                        && (input == ConvPlan.InputGradient.WIDE_ROWS || input == ConvPlan.InputGradient.WIDE_ROWS_BY_FILTER_ROW);
                rows.add(String.join(" | ", l.name(), String.valueOf(batch), forward.name(), weight.name(),
                        input.name() + (inGroups ? ", in the groups" : "")));
            }
        }
        return rows;
    }

    /** The convolution rows of package-info's table: each row's first five cells, tags removed. */
    static List<String> documentedRows(boolean avx2) throws IOException {
        String text = Files.readString(PACKAGE_INFO).replaceAll("\\s*\\n\\s*\\*\\s*", " ");
        Matcher row = Pattern.compile("<tr><td>(conv\\d|resnet20 [^<]*)</td>(.*?)</tr>").matcher(text);
        List<String> rows = new ArrayList<>();
        while (row.find()) {
            List<String> cells = new ArrayList<>(List.of(row.group(1)));
            Matcher cell = Pattern.compile("<td>(.*?)</td>").matcher(row.group(2));
            while (cell.find() && cells.size() < 5) {
                // "CHANNELS (AVX2: WIDE_ROWS)": the first with 16-float vectors, the second with 8
                Matcher both = Pattern.compile("(\\w+) \\(AVX2: (\\w+)\\)").matcher(cell.group(1).trim());
                cells.add(both.matches() ? both.group(avx2 ? 2 : 1) : cell.group(1).trim());
            }
            rows.add(String.join(" | ", cells));
        }
        return rows;
    }

    @Test
    void packageInfoTableIsWhatThePlanChoosesWithAvx512Vectors() throws IOException {
        assertEquals(String.join("\n", computedRows(new ConvPlan(16))), String.join("\n", documentedRows(false)),
                "package-info.java's table against ConvPlan (16-float vectors)");
        assertTrue(String.join("\n", documentedRows(false)).contains("CHANNELS"), "the table's rows were read");
    }

    @Test
    void avx2VectorsChooseTheSameConvolutionPaths() throws IOException {
        assertEquals(String.join("\n", computedRows(new ConvPlan(8))), String.join("\n", documentedRows(true)),
                "package-info.java says 8-float vectors give the same convolution rows");
    }

    @Test
    void eachForcedAlgorithmSelectsThePathsItNames() {
        ConvPlan plan = new ConvPlan(16);
        // conv2 at batch 4: AUTO takes CHANNELS, CHANNELS, by filter row, so every forced path below is a change.
        assertEquals(ConvPlan.Forward.IM2COL, plan.forward(1, 6, 16, 14, 14, 5, 5, 0, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.WeightGradient.IM2COL, plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.InputGradient.COL2IM, plan.inputGradient(4, 6, 14, 5, 5, 1, 0, ConvPlan.Algorithm.IM2COL));
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 6, 16, 14, 14, 5, 5, 0, ConvPlan.Algorithm.DIRECT));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS, plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.DIRECT));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS,
                plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.GROUPS));
        assertEquals(ConvPlan.InputGradient.LANES, plan.inputGradient(4, 6, 14, 5, 5, 1, 0, ConvPlan.Algorithm.LANES));
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(1, 6, 16, 14, 14, 5, 5, 0, ConvPlan.Algorithm.CHANNELS));
        // Paths that do not apply fall back: CHANNELS needs whole vectors of output channels, the input gradient's
        // paths but COL2IM stride 1, FLIPPED square filters and input channels in whole vectors.
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 6, 6, 14, 14, 5, 5, 0, ConvPlan.Algorithm.CHANNELS));
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(2, 6, 16, 14, 14, 5, 5, 0, ConvPlan.Algorithm.CHANNELS));
        assertEquals(ConvPlan.InputGradient.COL2IM, plan.inputGradient(32, 6, 14, 5, 5, 2, 0, ConvPlan.Algorithm.LANES));
        assertEquals(ConvPlan.InputGradient.FLIPPED, plan.inputGradient(4, 16, 14, 3, 3, 1, 1, ConvPlan.Algorithm.CHANNELS));
        assertEquals(ConvPlan.InputGradient.LANES, plan.inputGradient(32, 16, 14, 3, 2, 1, 1, ConvPlan.Algorithm.AUTO));
        assertEquals(ConvPlan.InputGradient.COL2IM, plan.inputGradient(32, 16, 14, 3, 3, 2, 1, ConvPlan.Algorithm.AUTO));
        // WINOGRAD: 3x3 at stride 1 from 16 input channels, where the rows pack into two vectors (AUTO), or forced anywhere
        // its tile applies (output channels in fours); elsewhere forced, the forward falls back to wide rows.
        assertEquals(ConvPlan.Forward.WINOGRAD, plan.forward(1, 16, 16, 32, 32, 3, 3, 1, AUTO));
        assertEquals(ConvPlan.Forward.WINOGRAD, plan.forward(1, 64, 64, 8, 8, 3, 3, 1, AUTO));
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(1, 16, 16, 7, 6, 3, 3, 1, AUTO));
        assertEquals(ConvPlan.Forward.WINOGRAD, plan.forward(1, 3, 16, 7, 9, 3, 3, 2, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 6, 16, 14, 14, 5, 5, 0, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.InputGradient.FLIPPED, plan.inputGradient(4, 16, 14, 3, 3, 1, 1, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 16, 6, 32, 32, 3, 3, 1, ConvPlan.Algorithm.WINOGRAD));
        // The weight gradient by WINOGRAD: where the forward's AUTO takes it, from 64 input channels to 64 x 64 pairs, or forced on 3x3 at stride 1 with output
        // channels in whole vectors; elsewhere forced, it falls back to wide rows.
        assertEquals(ConvPlan.WeightGradient.WINOGRAD, plan.weightGradient(128, 64, 8, 8, 64, 3, 3, 1, 1, AUTO));
        assertEquals(ConvPlan.WeightGradient.CHANNELS, plan.weightGradient(128, 32, 16, 16, 32, 3, 3, 1, 1, AUTO));
        assertEquals(ConvPlan.WeightGradient.CHANNELS, plan.weightGradient(128, 128, 16, 16, 128, 3, 3, 1, 1, AUTO));
        assertEquals(ConvPlan.WeightGradient.WINOGRAD, plan.weightGradient(4, 3, 7, 9, 16, 3, 3, 1, 2, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS, plan.weightGradient(4, 6, 14, 14, 16, 5, 5, 1, 0, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS, plan.weightGradient(128, 16, 32, 32, 32, 3, 3, 2, 1, ConvPlan.Algorithm.WINOGRAD));
        assertEquals(ConvPlan.WeightGradient.WIDE_ROWS, plan.weightGradient(4, 16, 9, 9, 12, 3, 3, 1, 1, ConvPlan.Algorithm.WINOGRAD));
        // AUTO: wide rows where they waste under a quarter of their columns, by channels where more.
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(1, 3, 16, 32, 32, 3, 3, 1, AUTO));
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(1, 3, 16, 6, 6, 3, 3, 1, AUTO));
        // Pairs of vectors of output channels (AVX-512): by channels' two-vector tile, but for 1x1 filters.
        assertEquals(ConvPlan.Forward.CHANNELS, plan.forward(1, 3, 32, 16, 16, 3, 3, 1, AUTO));
        assertEquals(ConvPlan.Forward.WIDE_ROWS, plan.forward(2, 3, 32, 32, 32, 1, 1, 0, AUTO));
        assertEquals(2, plan.channelVectors(64));
        assertEquals(1, plan.channelVectors(48));
        assertEquals(1, new ConvPlan(8).channelVectors(64));
    }
}
