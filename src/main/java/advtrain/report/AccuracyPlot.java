package advtrain.report;

import advtrain.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Line plots of accuracy (in percent) against a parameter, as PNG: the seed's "influence of ε on
 * accuracy" figure, one line per attack, with reference lines (clean accuracy) dashed.
 */
public final class AccuracyPlot {
    static { Headless.init(); }

    private AccuracyPlot() {}

    /** One line: accuracies (fractions in [0, 1]) at xs; dashed lines are references (no markers). */
    public record Series(String name, double[] xs, double[] accuracies, boolean dashed) {
        public Series {
            if (xs.length != accuracies.length || xs.length == 0) {
                throw new IllegalArgumentException("series " + name + ": " + xs.length + " x values, " + accuracies.length + " accuracies");
            }
        }

        /** A horizontal dashed line at this accuracy across [from, to]. */
        public static Series reference(String name, double accuracy, double from, double to) {
            return new Series(name, new double[] {from, to}, new double[] {accuracy, accuracy}, true);
        }
    }

    public static byte[] png(String title, String xTitle, List<Series> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(520).title(title)
                .xAxisTitle(xTitle).yAxisTitle("accuracy (%)").build();
        XYStyler styler = chart.getStyler();
        styler.setYAxisMin(0.0);
        styler.setYAxisMax(100.0);
        styler.setYAxisDecimalPattern("0");
        styler.setXAxisDecimalPattern("0.###");
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setAntiAlias(true);
        for (Series s : series) {
            double[] percent = new double[s.accuracies.length];
            for (int i = 0; i < percent.length; i++) percent[i] = 100 * s.accuracies[i];
            XYSeries line = chart.addSeries(s.name, s.xs, percent);
            if (s.dashed) {
                line.setLineStyle(SeriesLines.DASH_DASH);
                line.setMarker(SeriesMarkers.NONE);
                line.setLineColor(Color.GRAY);
            } else {
                line.setMarker(SeriesMarkers.CIRCLE);
            }
        }
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    /** Writes the PNG whole or not at all (temp file, then rename). */
    public static void write(Path file, String title, String xTitle, List<Series> series) throws IOException {
        AtomicFiles.write(file, png(title, xTitle, series));
    }
}
