package advtrain.io;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Progress of long work on stderr: a live bar (rate, ETA, a short message) on a terminal, plain
 * lines at every tenth otherwise (logs and CI), nothing when quiet. The time left is shown only once
 * the rate is steady ({@link RateMeter}). stdout stays clean for results
 * and --json.
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream plain;
    private final String task;
    private final long total;
    private final long startNanos = System.nanoTime();
    /** The rate for the time left: known once steady (the first seconds of the Java backend are slow). */
    private final RateMeter rate = new RateMeter(1.0);
    private long done;
    private int lastTenth;
    private String message = "";

    private Progress(String task, long total, boolean quiet) {
        this.task = task;
        this.total = Math.max(1, total);
        boolean terminal = System.console() != null && System.getenv("CI") == null;
        if (!quiet && terminal) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(this.total)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .setUpdateIntervalMillis(250).showSpeed()
                    .setEtaFunction(state -> {
                        OptionalDouble left = rate.secondsLeft(state.getMax() - state.getCurrent());
                        return left.isPresent() ? Optional.of(Duration.ofMillis((long) (1000 * left.getAsDouble()))) : Optional.empty();
                    }).build();
            plain = null;
        } else {
            bar = null;
            plain = quiet ? null : System.err;
        }
    }

    /** Starts a progress report for {@code total} units of work (images, batches). */
    public static Progress start(String task, long total, boolean quiet) {
        return new Progress(task, total, quiet);
    }

    /** Records {@code units} more units done; {@code message} (may be null) is shown beside the bar. */
    public void step(long units, String message) {
        done += units;
        rate.record((System.nanoTime() - startNanos) / 1e9, units);
        if (message != null) this.message = message;
        if (bar != null) {
            bar.stepBy(units);
            if (message != null) bar.setExtraMessage(" " + message);
        } else if (plain != null) {
            int tenth = (int) (10 * Math.min(done, total) / total);
            if (tenth > lastTenth) {
                lastTenth = tenth;
                double seconds = (System.nanoTime() - startNanos) / 1e9;
                OptionalDouble left = rate.secondsLeft(total - done);
                plain.printf("%s: %3d%% (%d/%d, %.0f/s%s) %s%n", task, tenth * 10, done, total, done / Math.max(seconds, 1e-9),
                        left.isPresent() && done < total ? String.format(", %.0f s left", left.getAsDouble()) : "", this.message);
            }
        }
    }

    @Override public void close() {
        if (bar != null) bar.close();
    }
}
