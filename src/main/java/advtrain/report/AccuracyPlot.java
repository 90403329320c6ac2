package advtrain.report;

import advtrain.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Line plots of accuracy (in percent) against a parameter, as PNG, SVG or PDF: the seed's "influence
 * of ε on accuracy" figure, one line per attack with markers, reference levels (clean accuracy, FGSM)
 * as horizontal lines that differ from each other in colour and dash, and vertical marks (α·steps/ε = 1).
 * The x axis is linear or logarithmic; on a logarithmic axis x = 0 (ε = 0, no attack) is drawn one
 * decade below the decade of the smallest positive x and labelled 0.
 */
public final class AccuracyPlot {
    static { Headless.init(); }

    private AccuracyPlot() {}

    /** How a series is drawn. */
    public enum Kind { DATA, REFERENCE, MARK }

    /** One line: accuracies (fractions in [0, 1]) at xs. */
    public record Series(String name, double[] xs, double[] accuracies, Kind kind) {
        public Series {
            if (xs.length != accuracies.length || xs.length == 0) {
                throw new IllegalArgumentException("series " + name + ": " + xs.length + " x values, " + accuracies.length + " accuracies");
            }
        }

        /** A measured line, with a marker at each point. */
        public static Series data(String name, double[] xs, double[] accuracies) {
            return new Series(name, xs, accuracies, Kind.DATA);
        }

        /** A horizontal line at this accuracy across [from, to]. */
        public static Series reference(String name, double accuracy, double from, double to) {
            return new Series(name, new double[] {from, to}, new double[] {accuracy, accuracy}, Kind.REFERENCE);
        }

        /** A vertical line at x, from 0 to 100 %. */
        public static Series mark(String name, double x) {
            return new Series(name, new double[] {x, x}, new double[] {0, 1}, Kind.MARK);
        }
    }

    /** The x axis: linear, or logarithmic for parameters (ε) whose small values matter most. */
    public enum Scale {
        LINEAR, LOG;

        public static Scale parse(String text) {
            for (Scale s : values()) if (s.name().equalsIgnoreCase(text.trim())) return s;
            throw new IllegalArgumentException("'" + text + "' is not an axis scale: use linear or log");
        }
    }

    /** The file format: PNG (a bitmap), or SVG and PDF (vector graphics, for papers). */
    public enum Format {
        PNG, SVG, PDF;

        public String extension() { return name().toLowerCase(Locale.ROOT); }

        /** DIR/NAME.png, .svg or .pdf. */
        public Path file(Path dir, String name) { return dir.resolve(name + "." + extension()); }

        public static Format parse(String text) {
            for (Format f : values()) if (f.extension().equals(text.trim().toLowerCase(Locale.ROOT))) return f;
            throw new IllegalArgumentException("'" + text + "' is not a figure format: use png, svg or pdf");
        }
    }

    /** Colour and dash of the i-th reference line: no two of the first three look alike. */
    private static final Color[] REFERENCE_COLORS = {new Color(90, 90, 90), new Color(214, 96, 0), new Color(120, 60, 160)};
    private static final BasicStroke[] REFERENCE_LINES = {SeriesLines.DASH_DASH, SeriesLines.DOT_DOT, SeriesLines.DASH_DOT};

    public static byte[] render(String title, String xTitle, List<Series> series, Scale scale, Format format) throws IOException {
        double zeroAt = scale == Scale.LOG ? zeroPosition(series) : 0;
        XYChart chart = new XYChartBuilder().width(800).height(520).title(title)
                .xAxisTitle(xTitle + (scale == Scale.LOG ? ", log scale" : "")).yAxisTitle("accuracy (%)").build();
        XYStyler styler = chart.getStyler();
        styler.setYAxisMin(0.0);
        styler.setYAxisMax(100.0);
        styler.setYAxisDecimalPattern("0");
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setAntiAlias(true);
        if (scale == Scale.LOG) {
            // XChart's own log axis cannot label the place of x = 0 "0", so the axis is linear in
            // log10(x), with ticks about a decade apart (wide spacing) labelled with x itself.
            double zeroDecade = Math.log10(zeroAt);
            styler.setXAxisTickMarkSpacingHint(160);
            styler.setxAxisTickLabelsFormattingFunction(t -> {
                long decade = Math.round(t);
                if (Math.abs(t - decade) < 1e-6) return decade <= zeroDecade + 1e-6 ? "0" : plain(Math.pow(10, decade));
                return t < zeroDecade ? "" : String.format(Locale.ROOT, "%.2g", Math.pow(10, t));
            });
        } else {
            styler.setXAxisDecimalPattern("0.###");
        }
        int references = 0;
        for (Series s : series) {
            double[] xs = s.xs.clone(), percent = new double[s.accuracies.length];
            for (int i = 0; i < percent.length; i++) {
                percent[i] = 100 * s.accuracies[i];
                if (scale == Scale.LOG) xs[i] = Math.log10(xs[i] <= 0 ? zeroAt : xs[i]);
            }
            XYSeries line = chart.addSeries(s.name, xs, percent);
            switch (s.kind) {
                case DATA -> line.setMarker(SeriesMarkers.CIRCLE);
                case REFERENCE -> {
                    int style = references++ % REFERENCE_COLORS.length;
                    line.setMarker(SeriesMarkers.NONE);
                    line.setLineStyle(REFERENCE_LINES[style]);
                    line.setLineColor(REFERENCE_COLORS[style]);
                }
                case MARK -> {
                    line.setMarker(SeriesMarkers.NONE);
                    line.setLineStyle(new BasicStroke(1.5f));
                    line.setLineColor(new Color(30, 140, 60));
                }
            }
        }
        if (format == Format.PNG) return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        VectorGraphicsEncoder.saveVectorGraphic(chart, bytes,
                format == Format.SVG ? VectorGraphicsEncoder.VectorGraphicsFormat.SVG : VectorGraphicsEncoder.VectorGraphicsFormat.PDF);
        return bytes.toByteArray();
    }

    /**
     * Writes DIR/NAME.png and, for SVG or PDF, DIR/NAME.svg or .pdf beside it (the PNG is what report.md
     * shows); each file whole or not at all (temp file, then rename). Returns the file in {@code format}.
     */
    public static Path write(Path dir, String name, String title, String xTitle, List<Series> series, Scale scale, Format format)
            throws IOException {
        AtomicFiles.write(Format.PNG.file(dir, name), render(title, xTitle, series, scale, Format.PNG));
        if (format != Format.PNG) AtomicFiles.write(format.file(dir, name), render(title, xTitle, series, scale, format));
        return format.file(dir, name);
    }

    /** How the figures of a command are written: the file format, and the scale of ε axes. */
    public record Style(Format format, Scale epsScale) {
        public static final Style DEFAULT = new Style(Format.PNG, Scale.LINEAR);
    }

    /** Where a log axis draws x = 0: the decade below the decade of the smallest positive x. */
    static double zeroPosition(List<Series> series) {
        double smallest = Double.MAX_VALUE;
        for (Series s : series) for (double x : s.xs) if (x > 0) smallest = Math.min(smallest, x);
        if (smallest == Double.MAX_VALUE) throw new IllegalArgumentException("a log axis needs some x > 0");
        return Math.pow(10, Math.floor(Math.log10(smallest)) - 1);
    }

    private static String plain(double x) {
        String s = String.format(Locale.ROOT, "%.6f", x).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
