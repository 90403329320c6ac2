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
                AccuracyPlot.Series.data("FGSM", new double[] {0, 0.01, 0.03}, new double[] {0.5, 0.3, 0.1}),
                AccuracyPlot.Series.reference("clean", 0.5, 0, 0.03));
        Path file = AccuracyPlot.write(dir.resolve("sub"), "plot", "Accuracy against ε", "ε", series, AccuracyPlot.Scale.LINEAR,
                AccuracyPlot.Format.PNG);
        assertEquals(dir.resolve("sub").resolve("plot.png"), file);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(file)));
        assertEquals(800, image.getWidth());
        assertEquals(520, image.getHeight());
        assertThrows(IllegalArgumentException.class, () -> AccuracyPlot.Series.data("bad", new double[] {0}, new double[] {1, 2}));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left beside the plot");
        }
    }

    @Test
    void referenceLinesDifferInColourAndTheMarkIsDrawn() throws Exception {
        List<AccuracyPlot.Series> series = List.of(
                AccuracyPlot.Series.data("PGD", new double[] {0.2, 0.5, 1, 2.5}, new double[] {0.4, 0.2, 0.1, 0.05}),
                AccuracyPlot.Series.reference("FGSM", 0.3, 0.2, 2.5),
                AccuracyPlot.Series.reference("clean", 0.6, 0.2, 2.5),
                AccuracyPlot.Series.mark("condition", 1));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(
                AccuracyPlot.render("t", "x", series, AccuracyPlot.Scale.LINEAR, AccuracyPlot.Format.PNG)));
        int fgsmGrey = pixelsNear(image, new Color(90, 90, 90)), cleanOrange = pixelsNear(image, new Color(214, 96, 0)),
                markGreen = pixelsNear(image, new Color(30, 140, 60));
        assertTrue(fgsmGrey > 100, "the first reference line is dark grey: " + fgsmGrey + " pixels");
        assertTrue(cleanOrange > 100, "the second reference line is orange, not grey as well: " + cleanOrange + " pixels");
        assertTrue(markGreen > 100, "the vertical mark is drawn: " + markGreen + " pixels");
    }

    @Test
    void vectorFormatsAreSvgAndPdfBesideThePng(@TempDir Path dir) throws Exception {
        List<AccuracyPlot.Series> series = List.of(
                AccuracyPlot.Series.data("FGSM", new double[] {0, 0.002, 0.01, 0.1}, new double[] {0.5, 0.4, 0.3, 0.1}),
                AccuracyPlot.Series.reference("clean", 0.5, 0, 0.1));
        Path svg = AccuracyPlot.write(dir, "plot", "Accuracy (1,000 images)", "ε", series, AccuracyPlot.Scale.LOG, AccuracyPlot.Format.SVG);
        Path pdf = AccuracyPlot.write(dir, "plot", "Accuracy (1,000 images)", "ε", series, AccuracyPlot.Scale.LOG, AccuracyPlot.Format.PDF);
        assertEquals(dir.resolve("plot.svg"), svg);
        assertTrue(Files.readString(svg).contains("<svg"), "an SVG document");
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(pdf), 5);
        assertEquals("%PDF-", new String(head, java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(Files.isRegularFile(dir.resolve("plot.png")), "the PNG is written beside the vector file");
        assertEquals(AccuracyPlot.Format.PDF, AccuracyPlot.Format.parse("PDF"));
        assertThrows(IllegalArgumentException.class, () -> AccuracyPlot.Format.parse("gif"));
    }

    @Test
    void aLogAxisDrawsEpsZeroADecadeBelowTheSmallestEps() {
        List<AccuracyPlot.Series> series = List.of(AccuracyPlot.Series.data("PGD", new double[] {0, 0.002, 0.03}, new double[] {0.5, 0.4, 0.1}));
        assertEquals(1e-4, AccuracyPlot.zeroPosition(series), 1e-12, "0.002 is in the decade of 0.001; zero one decade below");
        assertThrows(IllegalArgumentException.class,
                () -> AccuracyPlot.zeroPosition(List.of(AccuracyPlot.Series.data("x", new double[] {0}, new double[] {1}))));
    }

    /** Pixels within a small distance of a colour (anti-aliased lines blend at their edges). */
    private static int pixelsNear(BufferedImage image, Color color) {
        int count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                Color c = new Color(image.getRGB(x, y));
                int d = Math.abs(c.getRed() - color.getRed()) + Math.abs(c.getGreen() - color.getGreen()) + Math.abs(c.getBlue() - color.getBlue());
                if (d <= 24) count++;
            }
        }
        return count;
    }
}
