package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Gradient checking, as a library feature (minitorch's grad_check, needle's gradient_check): runs a
 * function forward and backward, then nudges each element of each argument by ±step and compares
 * the gradient that backward computed with the central difference (L(x+h) - L(x-h)) / 2h.
 *
 * <p>The function may return any output y. A scalar is checked as it is (backward from 1, the way
 * a loss is used); any other output is reduced to the scalar L = sum(r * y) for a fixed random r
 * in [-1, 1), so every output element carries a different weight and backward is seeded with r.
 * L and the differences are computed in double on the host; only the function itself runs in the
 * engine's float32.
 *
 * <p>Why the defaults are what they are. The engine rounds each output to float32 (unit roundoff
 * u = 6e-8), so L(x±h) carries an error of roughly u·|L| times a small accumulation factor, and the
 * difference quotient an error of that over 2h: about 1e-5·|L| for h = 1e-2. The truncation error
 * of a central difference is h²·f'''/6, zero for ops that are linear in the nudged argument (conv,
 * linear, add, affine, NLL) and about 1e-5 for log-softmax at h = 1e-2. The optimum for smooth
 * functions, h ≈ (3u)^(1/3) ≈ 6e-3 on values of order one, is close by; h = 1e-2 is taken because
 * most ops are piecewise linear, where a larger step only helps, provided that the data keeps
 * further than h from a ReLU kink or a max-pool tie (the tests build their inputs that way).
 * An element passes when |got - expected| ≤ absTol + relTol·|expected| (+ an optional share of the
 * argument's largest gradient, see {@link Options}): relTol = 1e-2 leaves room for the rounding
 * above on large gradients, absTol = 1e-4 for gradients near zero. On the op tests the worst
 * element uses a fifth of that; a wrong backward misses by far more (a missing term, a transposed
 * index, a factor of 2).
 *
 * <p>Kinks. Where a kink or tie lies within ±h anyway, the central difference averages two slopes.
 * The two one-sided differences then disagree, and the one from the side without the kink is the
 * derivative at x; an element whose central difference fails is accepted if the one-sided
 * differences disagree and one of them matches (counted in {@link Result#oneSided}). A wrong
 * gradient matches neither side.
 *
 * <pre>{@code
 * GradCheck.Result r = GradCheck.check(backend, "linear",
 *         List.of(Argument.input("x", x), Argument.input("w", w)),
 *         (tape, args) -> Ops.linear(args.get(0), args.get(1), null));
 * r.assertPassed();   // or inspect r.failures(): op, argument, index, expected, got
 * }</pre>
 */
public final class GradCheck {
    private GradCheck() {}

    /** The function under test: builds its output on the tape from the argument variables, in order. */
    @FunctionalInterface
    public interface Function {
        Variable apply(Tape tape, List<Variable> args);
    }

    /**
     * An argument to differentiate with respect to: either values that GradCheck feeds in as a tape
     * input requiring grad (an image batch, or a weight used directly by an op), or an existing
     * parameter of a model, whose values GradCheck nudges in place and restores afterwards.
     */
    public static final class Argument {
        final String name;
        final HostTensor values;
        final Variable parameter;

        private Argument(String name, HostTensor values, Variable parameter) {
            this.name = name;
            this.values = values;
            this.parameter = parameter;
        }

        public static Argument input(String name, HostTensor values) { return new Argument(name, values, null); }

        public static Argument input(String name, float[] values, int... dims) {
            return input(name, new HostTensor(Shape.of(dims), values.clone()));
        }

        /** A model parameter; its gradient tensor is overwritten with the analytic gradient. */
        public static Argument parameter(String name, Variable parameter) {
            if (!parameter.isParameter()) throw new IllegalArgumentException(name + " is not a parameter (made by a tape)");
            if (!parameter.requiresGrad()) throw new IllegalArgumentException("parameter " + name + " does not require grad");
            return new Argument(name, null, parameter);
        }

        public String name() { return name; }
    }

    /**
     * An element passes when |got - expected| ≤ absTol + relTol·|expected| + scaleTol·max|got of this argument|.
     *
     * @param step           h: each element is evaluated at x + h and x - h
     * @param relTol         allowed error relative to the finite difference
     * @param absTol         allowed error in absolute terms (for gradients near zero)
     * @param scaleTol       allowed error relative to the largest analytic gradient element of the
     *                       same argument: the scale the gradient tensor lives on. For deep ReLU
     *                       networks, where one element is a sum of many terms that may cancel and a
     *                       kink crossed by ±h shifts it by one term (0 by default)
     * @param maxPerArgument check at most this many elements of each argument (chosen at random,
     *                       always including the first and the last); the rest are skipped
     * @param seed           for the upstream weights r and for choosing elements
     */
    public record Options(double step, double relTol, double absTol, double scaleTol, int maxPerArgument, long seed) {
        public Options {
            if (!(step > 0) || !(relTol >= 0) || !(absTol >= 0) || !(scaleTol >= 0) || maxPerArgument < 1) {
                throw new IllegalArgumentException("GradCheck options: step > 0, tolerances >= 0, maxPerArgument >= 1");
            }
        }

        public static Options defaults() { return new Options(1e-2, 1e-2, 1e-4, 0, Integer.MAX_VALUE, 1); }

        public Options withStep(double h) { return new Options(h, relTol, absTol, scaleTol, maxPerArgument, seed); }

        public Options withTolerance(double rel, double abs) { return new Options(step, rel, abs, scaleTol, maxPerArgument, seed); }

        public Options withScaleTolerance(double scale) { return new Options(step, relTol, absTol, scale, maxPerArgument, seed); }

        public Options withMaxPerArgument(int n) { return new Options(step, relTol, absTol, scaleTol, n, seed); }

        public Options withSeed(long s) { return new Options(step, relTol, absTol, scaleTol, maxPerArgument, s); }
    }

    /** One element whose analytic gradient disagrees with the finite difference. */
    public record Failure(String op, String argument, int index, double expected, double got) {
        @Override public String toString() {
            return String.format("%s: d/d %s[%d]: expected %.6g (finite difference), got %.6g (backward)",
                    op, argument, index, expected, got);
        }
    }

    /**
     * What a check found: how many elements were checked, how many of those passed only on one side
     * of a kink (see {@link GradCheck}), every failing element, and the worst error as a fraction of
     * its tolerance (below 1 passes).
     */
    public record Result(String op, int checked, int oneSided, List<Failure> failures, double worstRatio) {
        public boolean passed() { return failures.isEmpty(); }

        /** One line, then up to 20 failures, one per line. */
        public String summary() {
            StringBuilder b = new StringBuilder(String.format("%s: %d of %d gradient elements disagree with finite differences"
                    + " (%d matched a one-sided difference; worst error %.3g of the tolerance)",
                    op, failures.size(), checked, oneSided, worstRatio));
            for (int i = 0; i < Math.min(20, failures.size()); i++) b.append("\n  ").append(failures.get(i));
            if (failures.size() > 20) b.append("\n  ... and ").append(failures.size() - 20).append(" more");
            return b.toString();
        }

        /** Throws an AssertionError with {@link #summary} when any element failed. */
        public void assertPassed() {
            if (!passed()) throw new AssertionError(summary());
        }
    }

    public static Result check(Backend backend, String op, List<Argument> args, Function function) {
        return check(backend, op, args, function, Options.defaults());
    }

    public static Result check(Backend backend, String op, List<Argument> args, Function function, Options options) {
        List<Tensor> tensors = new ArrayList<>();
        for (Argument a : args) {
            tensors.add(a.parameter != null ? a.parameter.data() : Tensors.fromArray(backend, a.values.values(), a.values.shape().dims()));
        }
        try (Tape tape = new Tape(backend)) {
            // Analytic: one forward and one backward pass.
            for (Argument a : args) if (a.parameter != null) backend.fill(a.parameter.grad(), 0f);
            List<Variable> vars = variables(tape, args, tensors);
            Variable output = function.apply(tape, vars);
            double[] upstream = upstream(output.shape(), options.seed);
            if (output.shape().size() == 1) {
                tape.backward(output);
            } else {
                Tensor seed = tape.scratch(output.shape());
                backend.write(seed, toFloats(upstream), 0);
                tape.backward(output, seed);
            }
            List<float[]> analytic = new ArrayList<>();
            for (Variable v : vars) {
                analytic.add(v.grad() == null ? new float[v.shape().size()] : Tensors.toArray(backend, v.grad()));
            }
            tape.reset();

            // Numeric: two forward passes per checked element, plus one at the unchanged point.
            double lossHere = evaluate(tape, args, tensors, function, upstream);
            List<Failure> failures = new ArrayList<>();
            int checked = 0, oneSided = 0;
            double worstRatio = 0;
            for (int a = 0; a < args.size(); a++) {
                Tensor tensor = tensors.get(a);
                float[] original = Tensors.toArray(backend, tensor);
                float[] nudged = original.clone();
                double scaleAllowance = options.scaleTol * maxAbs(analytic.get(a));
                try {
                    for (int index : indicesToCheck(original.length, options, a)) {
                        float here = original[index];
                        float plus = (float) (here + options.step), minus = (float) (here - options.step);
                        nudged[index] = plus;
                        backend.write(tensor, nudged, 0);
                        double lossPlus = evaluate(tape, args, tensors, function, upstream);
                        nudged[index] = minus;
                        backend.write(tensor, nudged, 0);
                        double lossMinus = evaluate(tape, args, tensors, function, upstream);
                        nudged[index] = here;
                        // Divide by the steps actually taken: x ± h is rounded to float32.
                        double central = (lossPlus - lossMinus) / ((double) plus - minus);
                        double got = analytic.get(a)[index];
                        double ratio = errorRatio(got, central, options, scaleAllowance);
                        if (!(ratio <= 1)) {
                            // A kink (ReLU) or tie (max-pool) within ±h makes the central difference
                            // average two slopes; then the slope on the side without it is the
                            // derivative at x. The sides disagree by more than the tolerance only then.
                            double right = (lossPlus - lossHere) / ((double) plus - here);
                            double left = (lossHere - lossMinus) / ((double) here - minus);
                            if (errorRatio(left, right, options, scaleAllowance) > 1) {
                                double sided = Math.min(errorRatio(got, right, options, scaleAllowance), errorRatio(got, left, options, scaleAllowance));
                                if (sided <= 1) {
                                    ratio = sided;
                                    oneSided++;
                                }
                            }
                        }
                        checked++;
                        worstRatio = Math.max(worstRatio, Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio);
                        if (!(ratio <= 1)) failures.add(new Failure(op, args.get(a).name, index, central, got));
                    }
                } finally {
                    backend.write(tensor, original, 0);
                }
            }
            return new Result(op, checked, oneSided, List.copyOf(failures), worstRatio);
        } finally {
            for (int a = 0; a < args.size(); a++) if (args.get(a).parameter == null) backend.release(tensors.get(a));
        }
    }

    /** |got - expected| as a fraction of the allowed error (NaN when either is NaN). */
    private static double errorRatio(double got, double expected, Options options, double scaleAllowance) {
        return Math.abs(got - expected) / (options.absTol + options.relTol * Math.abs(expected) + scaleAllowance);
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) max = Math.max(max, Math.abs(v));
        return max;
    }

    private static List<Variable> variables(Tape tape, List<Argument> args, List<Tensor> tensors) {
        List<Variable> vars = new ArrayList<>();
        for (int a = 0; a < args.size(); a++) {
            Argument arg = args.get(a);
            vars.add(arg.parameter != null ? arg.parameter : tape.input(tensors.get(a), true));
        }
        return vars;
    }

    /** L = sum(r * y) in double, from a forward pass that records nothing. */
    private static double evaluate(Tape tape, List<Argument> args, List<Tensor> tensors, Function function, double[] upstream) {
        try (Tape.NoGrad scope = tape.noGrad()) {
            float[] y = Tensors.toArray(tape.backend(), function.apply(tape, variables(tape, args, tensors)).data());
            double loss = 0;
            for (int i = 0; i < y.length; i++) loss += upstream[i] * y[i];
            return loss;
        } finally {
            tape.reset();
        }
    }

    /** 1 for a scalar output; otherwise fixed random weights in [-1, 1), exact in float32. */
    private static double[] upstream(Shape shape, long seed) {
        double[] r = new double[shape.size()];
        if (r.length == 1) {
            r[0] = 1;
            return r;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < r.length; i++) r[i] = (float) (random.nextDouble() * 2 - 1);
        return r;
    }

    /** Every index, or maxPerArgument of them at random (first and last always among them), ascending. */
    private static int[] indicesToCheck(int size, Options options, int argument) {
        if (size <= options.maxPerArgument) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) all[i] = i;
            return all;
        }
        int[] pool = new int[size];
        for (int i = 0; i < size; i++) pool[i] = i;
        int n = Math.max(2, options.maxPerArgument);
        pool[1] = size - 1;
        pool[size - 1] = 1;
        SplittableRandom random = new SplittableRandom(options.seed * 31 + argument);
        for (int i = 2; i < n; i++) {  // a partial Fisher-Yates shuffle of the rest
            int j = i + random.nextInt(size - i);
            int t = pool[i]; pool[i] = pool[j]; pool[j] = t;
        }
        int[] chosen = java.util.Arrays.copyOf(pool, n);
        java.util.Arrays.sort(chosen);
        return chosen;
    }

    private static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) f[i] = (float) values[i];
        return f;
    }
}
