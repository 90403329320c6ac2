package advtrain.cli;

import advtrain.report.AccuracyPlot;
import picocli.CommandLine.Option;

/** How the commands that draw accuracy plots (sweep, reproduce, demo) write them. */
public final class FigureOptions {
    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "png",
            description = "png, svg or pdf: svg and pdf also write each plot as vector graphics beside its PNG, for papers "
                    + "(the pictures of attacked images stay PNG) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--eps-axis", paramLabel = "SCALE", defaultValue = "linear",
            description = "linear or log: the scale of eps axes; log spreads the small eps, where accuracy changes most, "
                    + "and draws eps = 0 one decade left of the smallest eps (default: ${DEFAULT-VALUE})")
    String epsAxis;

    AccuracyPlot.Style style() {
        try {
            return new AccuracyPlot.Style(AccuracyPlot.Format.parse(format), AccuracyPlot.Scale.parse(epsAxis));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError((e.getMessage().contains("format") ? "--format " : "--eps-axis ") + e.getMessage());
        }
    }
}
