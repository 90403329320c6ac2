package advtrain.train;

import java.util.List;

/**
 * The result of classifying a labelled set: counts, the mean NLL loss, and the confusion matrix
 * (rows: true class, columns: predicted class).
 */
public record Evaluation(int n, int correct, double loss, int[][] confusion, List<String> classNames) {

    /** Fraction of images classified correctly, in [0, 1]. */
    public double accuracy() { return n == 0 ? Double.NaN : (double) correct / n; }

    /** Images of each true class. */
    public int[] classCounts() {
        int[] counts = new int[confusion.length];
        for (int c = 0; c < confusion.length; c++) for (int p : confusion[c]) counts[c] += p;
        return counts;
    }

    /** Accuracy within each true class (NaN for a class with no images). */
    public double[] perClassAccuracy() {
        int[] counts = classCounts();
        double[] acc = new double[confusion.length];
        for (int c = 0; c < acc.length; c++) acc[c] = counts[c] == 0 ? Double.NaN : (double) confusion[c][c] / counts[c];
        return acc;
    }

    /** Per-class accuracy lines and the confusion matrix as aligned text. */
    public String report() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("accuracy %.2f%% (%d/%d), mean loss %.4f%n", 100 * accuracy(), correct, n, loss));
        int[] counts = classCounts();
        double[] acc = perClassAccuracy();
        int width = 5;
        for (String name : classNames) width = Math.max(width, name.length());
        out.append(String.format("%nper class:%n"));
        for (int c = 0; c < acc.length; c++) {
            out.append(String.format("  %-" + width + "s %6.2f%% (%d/%d)%n", classNames.get(c), 100 * acc[c], confusion[c][c], counts[c]));
        }
        out.append(String.format("%nconfusion matrix (rows: true class, columns: predicted)%n"));
        out.append(String.format("  %-" + width + "s", ""));
        for (String name : classNames) out.append(String.format(" %5.5s", name));
        out.append(String.format("%n"));
        for (int c = 0; c < confusion.length; c++) {
            out.append(String.format("  %-" + width + "s", classNames.get(c)));
            for (int p : confusion[c]) out.append(String.format(" %5d", p));
            out.append(String.format("%n"));
        }
        return out.toString();
    }
}
