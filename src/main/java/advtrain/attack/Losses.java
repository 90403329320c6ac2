package advtrain.attack;

/**
 * The per-image objectives of the evaluation attacks, computed on the host from one row of the
 * model's C outputs per image, with their gradient with respect to those outputs. The backward pass
 * from the outputs to the input then runs on the device (Tape.backward seeded with this gradient).
 *
 * <p>The outputs are treated as logits z. All four objectives are unchanged by adding a constant to a
 * row (the cross-entropy is computed through a log-sum-exp), so a model that ends in log-softmax, as
 * the seed's Net does, gives exactly the losses and input gradients of its logits.
 *
 * <ul>
 *   <li>CE: log Σ_j exp z_j − z_y, the cross-entropy (maximised by APGD-CE).</li>
 *   <li>DLR: −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3), the difference of logits ratio of Croce and Hein
 *       (2020), π sorting the logits in decreasing order; invariant to shifting AND scaling the logits
 *       (maximised by APGD-DLR).</li>
 *   <li>targeted DLR: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2), toward the class t (APGD-T).</li>
 *   <li>margin: z_y − max_{j≠y} z_j, below zero exactly when the image is misclassified (minimised by
 *       the Square attack, which needs no gradient).</li>
 * </ul>
 * Denominators get 1e-12, as in the paper's code, so equal logits give a finite loss.
 */
enum Losses {
    CE, DLR, DLR_TARGETED, MARGIN;

    static final double DENOMINATOR_FLOOR = 1e-12;

    /**
     * The loss of row {@code row} of {@code outputs} ([N, classes]) for the true class {@code label} (and
     * {@code target} for the targeted DLR), and, when {@code grad} is not null, its gradient with respect to
     * that row, written at the same place in {@code grad}.
     */
    double value(float[] outputs, int row, int classes, int label, int target, float[] grad) {
        int base = row * classes;
        if (grad != null) java.util.Arrays.fill(grad, base, base + classes, 0f);
        return switch (this) {
            case CE -> crossEntropy(outputs, base, classes, label, grad);
            case DLR -> dlr(outputs, base, classes, label, grad);
            case DLR_TARGETED -> targetedDlr(outputs, base, classes, label, target, grad);
            case MARGIN -> outputs[base + label] - outputs[base + bestOther(outputs, base, classes, label)];
        };
    }

    private static double crossEntropy(float[] z, int base, int classes, int label, float[] grad) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) max = Math.max(max, z[base + j]);
        double sum = 0;
        for (int j = 0; j < classes; j++) sum += Math.exp(z[base + j] - max);
        if (grad != null) {   // softmax − onehot(y)
            for (int j = 0; j < classes; j++) grad[base + j] = (float) (Math.exp(z[base + j] - max) / sum);
            grad[base + label] -= 1f;
        }
        return max + Math.log(sum) - z[base + label];
    }

    private static double dlr(float[] z, int base, int classes, int label, float[] grad) {
        int[] top = top(z, base, classes, 3);
        int other = bestOther(z, base, classes, label);
        double gap = (double) z[base + label] - z[base + other];
        double d = (double) z[base + top[0]] - z[base + top[2]] + DENOMINATOR_FLOOR;
        if (grad != null) {   // L = −gap/d: dL/dz_y = −1/d, dL/dz_other = 1/d, dL/dd = gap/d²
            grad[base + label] -= (float) (1 / d);
            grad[base + other] += (float) (1 / d);
            grad[base + top[0]] += (float) (gap / (d * d));
            grad[base + top[2]] -= (float) (gap / (d * d));
        }
        return -gap / d;
    }

    private static double targetedDlr(float[] z, int base, int classes, int label, int target, float[] grad) {
        int[] top = top(z, base, classes, 4);
        double gap = (double) z[base + label] - z[base + target];
        double d = z[base + top[0]] - 0.5 * ((double) z[base + top[2]] + z[base + top[3]]) + DENOMINATOR_FLOOR;
        if (grad != null) {
            grad[base + label] -= (float) (1 / d);
            grad[base + target] += (float) (1 / d);
            grad[base + top[0]] += (float) (gap / (d * d));
            grad[base + top[2]] -= (float) (0.5 * gap / (d * d));
            grad[base + top[3]] -= (float) (0.5 * gap / (d * d));
        }
        return -gap / d;
    }

    /** The index of the largest output other than {@code label} (the first on ties). */
    static int bestOther(float[] z, int base, int classes, int label) {
        int best = -1;
        for (int j = 0; j < classes; j++) if (j != label && (best < 0 || z[base + j] > z[base + best])) best = j;
        return best;
    }

    /** The indices of the k largest outputs, largest first (the lower index first on ties). */
    static int[] top(float[] z, int base, int classes, int k) {
        if (classes < k) throw new IllegalArgumentException("the DLR loss needs at least " + k + " classes, the model has " + classes);
        int[] order = new int[k];
        boolean[] taken = new boolean[classes];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int j = 0; j < classes; j++) if (!taken[j] && (best < 0 || z[base + j] > z[base + best])) best = j;
            order[r] = best;
            taken[best] = true;
        }
        return order;
    }
}
