package advtrain.attack;

import advtrain.backend.Backend;
import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.tensor.Tensor;

import java.util.Locale;

/**
 * The threat model of an attack, as in Foolbox: each norm supplies the three pieces of the gradient
 * template that depend on it. Every method runs backend kernels on tensors already on the device,
 * writing into the buffers it is given: nothing is allocated and nothing is copied to the host.
 *
 * <p>Shapes: {@code x0}, {@code x}, {@code grad}, {@code scratch} are [N, ...] image batches;
 * {@code rows} is an [N] buffer, one number per image.
 */
public enum Norm {

    /** L∞: each pixel moves by at most ε; steps follow the sign of the gradient (FGSM, PGD). */
    LINF("linf", "Linf", "L∞") {
        @Override void randomStart(Backend be, Tensor x0, Tensor x, float eps, long seed, Tensor rows) {
            be.uniform(x, -eps, eps, seed);  // uniform in the box [-ε, ε]^d
            be.binary(BinaryOp.ADD, x0, x, x);
        }

        @Override void normalize(Backend be, Tensor grad, Tensor rows) {
            be.unary(UnaryOp.SIGN, grad, grad);
        }

        /** x = x0 + clamp(x - x0, -ε, ε), computed as PyTorch users write it, for bitwise agreement. */
        @Override void project(Backend be, Tensor x0, Tensor x, float eps, Tensor scratch, Tensor rows) {
            be.copy(x, scratch);
            be.axpy(-1f, x0, scratch);
            be.clamp(scratch, -eps, eps, scratch);
            be.binary(BinaryOp.ADD, x0, scratch, x);
        }
    },

    /** L2: the whole perturbation of an image has Euclidean norm at most ε; steps follow the unit gradient. */
    L2("l2", "L2", "L2") {
        /**
         * A direction drawn uniformly from the cube [-1, 1]^d and normalised (close to, though not
         * exactly, uniform on the sphere: the kernels have no Gaussian), at a radius uniform in
         * [0, ε] per image, as torchattacks' PGDL2 chooses it.
         */
        @Override void randomStart(Backend be, Tensor x0, Tensor x, float eps, long seed, Tensor rows) {
            be.uniform(x, -1f, 1f, seed);
            normalize(be, x, rows);
            be.uniform(rows, 0f, eps, seed ^ 0x5DEECE66DL);
            be.binary(BinaryOp.MUL, x, rows, x);
            be.binary(BinaryOp.ADD, x0, x, x);
        }

        /** grad / max(||grad||, 1e-12), per image (Foolbox's floor keeps a zero gradient at zero). */
        @Override void normalize(Backend be, Tensor grad, Tensor rows) {
            be.reduce(ReduceOp.SUM_SQUARES, grad, rows);
            be.clamp(rows, NORM_FLOOR * NORM_FLOOR, Float.POSITIVE_INFINITY, rows);
            be.unary(UnaryOp.RSQRT, rows, rows);
            be.binary(BinaryOp.MUL, grad, rows, grad);
        }

        /** δ = x - x0 scaled by min(1, ε / ||δ||) per image; x = x0 + δ. */
        @Override void project(Backend be, Tensor x0, Tensor x, float eps, Tensor scratch, Tensor rows) {
            be.copy(x, scratch);
            be.axpy(-1f, x0, scratch);
            be.reduce(ReduceOp.SUM_SQUARES, scratch, rows);
            be.clamp(rows, NORM_FLOOR * NORM_FLOOR, Float.POSITIVE_INFINITY, rows);
            be.unary(UnaryOp.RSQRT, rows, rows);
            be.affine(rows, eps, 0f, rows);
            be.clamp(rows, 0f, 1f, rows);
            be.binary(BinaryOp.MUL, scratch, rows, scratch);
            be.binary(BinaryOp.ADD, x0, scratch, x);
        }
    };

    /** Norms below this count as this, so a zero gradient or perturbation stays zero. */
    static final float NORM_FLOOR = 1e-12f;

    private final String label, text, symbol;

    Norm(String label, String text, String symbol) {
        this.label = label;
        this.text = text;
        this.symbol = symbol;
    }

    /** "linf" or "l2", as the command line spells it. */
    public String label() { return label; }

    /** "Linf" or "L2", for terminal output (ASCII: any console can show it). */
    public String text() { return text; }

    /** "L∞" or "L2", for pictures. */
    public String symbol() { return symbol; }

    public static Norm parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (Norm n : values()) if (n.label.equals(t)) return n;
        if (t.equals("inf") || t.equals("l_inf")) return LINF;
        throw new IllegalArgumentException("unknown norm '" + text + "': use linf or l2");
    }

    /** x = a random point of the ε-ball around x0 (clipping to [0,1] is the caller's next step). */
    abstract void randomStart(Backend be, Tensor x0, Tensor x, float eps, long seed, Tensor rows);

    /** grad = the steepest-ascent direction of unit size in this norm, in place. */
    abstract void normalize(Backend be, Tensor grad, Tensor rows);

    /** x = the nearest point to x of the ε-ball around x0. */
    abstract void project(Backend be, Tensor x0, Tensor x, float eps, Tensor scratch, Tensor rows);
}
