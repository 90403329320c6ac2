package advtrain.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest {

    @Test
    void theGridDrawsEachImageWhereItBelongs(@TempDir Path dir) throws Exception {
        float[] red = new float[3 * 4 * 4], grey = new float[3 * 4 * 4];
        for (int i = 0; i < 16; i++) red[i] = 1f;                      // the red plane full, green and blue empty
        java.util.Arrays.fill(grey, 0.5f);
        byte[] png = ImageGrid.png("title", List.of("a", "b"), List.of(
                List.of(new ImageGrid.Cell(red, "red", Color.RED), new ImageGrid.Cell(grey, "grey", null)),
                List.of(new ImageGrid.Cell(grey, null, null), new ImageGrid.Cell(red, "red", null))), 3, 4, 4, 10, List.of(0));
        Path file = dir.resolve("grid.png");
        ImageGrid.write(file, png);
        BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(2 * (84 + 12), image.getWidth(), "two columns of 84 px plus padding");
        int cellW = image.getWidth() / 2, cellH = 4 * 10 + 18 + 6, top = 44;
        int x0 = (cellW - 40) / 2;
        assertEquals(0xFF0000, image.getRGB(x0 + 5, top + 5) & 0xFFFFFF, "row 0, column 0 is red");
        assertEquals(0x808080, image.getRGB(cellW + x0 + 35, top + 35) & 0xFFFFFF, "row 0, column 1 is grey (0.5 -> 128)");
        assertEquals(0x808080, image.getRGB(x0 + 20, top + cellH + 20) & 0xFFFFFF, "row 1, column 0 is grey");
        assertEquals(0xFF0000, image.getRGB(cellW + x0 + 39, top + cellH + 39) & 0xFFFFFF, "row 1, column 1 is red");
        assertEquals(0xFFFFFF, image.getRGB(1, top + 1) & 0xFFFFFF, "background is white");
    }

    @Test
    void theAccuracyPlotIsAPngOfTheExpectedSize(@TempDir Path dir) throws Exception {
        List<AccuracyPlot.Series> series = List.of(
                new AccuracyPlot.Series("FGSM", new double[] {0, 0.01, 0.03}, new double[] {0.5, 0.3, 0.1}, false),
                AccuracyPlot.Series.reference("clean", 0.5, 0, 0.03));
        Path file = dir.resolve("sub").resolve("plot.png");
        AccuracyPlot.write(file, "Accuracy against ε", "ε", series);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(file)));
        assertEquals(800, image.getWidth());
        assertEquals(520, image.getHeight());
        assertThrows(IllegalArgumentException.class, () -> new AccuracyPlot.Series("bad", new double[] {0}, new double[] {1, 2}, false));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left beside the plot");
        }
    }
}
