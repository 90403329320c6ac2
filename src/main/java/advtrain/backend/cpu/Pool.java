package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max pooling, forward and backward, parallel over planes (image, channel). The 2x2 stride-2 case
 * of the seed has its own loop; other kernel sizes and strides take the general one. Both follow
 * the reference's rules: a NaN in a window wins, and the gradient goes to the first maximum.
 */
final class Pool {
    private static final ThreadLocal<Pool> PER_THREAD = ThreadLocal.withInitial(Pool::new);

    static Pool forThisThread() { return PER_THREAD.get(); }

    private int inH, inW, outH, outW, kernel, stride;
    private float[] in, out, dOut, dIn;

    private Pool() {}

    void forward(float[] in, float[] out, int planes, int inH, int inW, int outH, int outW, int kernel, int stride) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.out = out;
        Parallel.range(planes, (long) outH * outW * kernel * kernel, forwardPlanes);
        this.in = this.out = null;
    }

    void backward(float[] in, float[] dOut, float[] dIn, int planes, int inH, int inW, int outH, int outW, int kernel, int stride) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.dOut = dOut; this.dIn = dIn;
        Parallel.range(planes, 2L * outH * outW * kernel * kernel, backwardPlanes);
        this.in = this.dOut = this.dIn = null;
    }

    private void set(float[] in, int inH, int inW, int outH, int outW, int kernel, int stride) {
        this.in = in; this.inH = inH; this.inW = inW; this.outH = outH; this.outW = outW;
        this.kernel = kernel; this.stride = stride;
    }

    /**
     * Item p = plane p: out[p, oy, ox] = the largest of in[p, oy*stride + r, ox*stride + s] over the
     * kernel x kernel window (NaN if the window holds one).
     */
    private final Parallel.Task forwardPlanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int p = from; p < to; p++) {
                int inBase = p * inH * inW, outBase = p * outH * outW;
                if (kernel == 2 && stride == 2) {
                    for (int oy = 0; oy < outH; oy++) {
                        int row0 = inBase + 2 * oy * inW, row1 = row0 + inW, o = outBase + oy * outW;
                        for (int ox = 0; ox < outW; ox++) {
                            int i = 2 * ox;
                            out[o + ox] = Math.max(Math.max(in[row0 + i], in[row0 + i + 1]), Math.max(in[row1 + i], in[row1 + i + 1]));
                        }
                    }
                    continue;
                }
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        for (int r = 0; r < kernel; r++) {
                            int row = inBase + (oy * stride + r) * inW + ox * stride;
                            for (int s = 0; s < kernel; s++) {
                                float v = in[row + s];
                                if (v > best || Float.isNaN(v)) best = v;
                            }
                        }
                        out[outBase + oy * outW + ox] = best;
                    }
                }
            }
        }
    };

    /**
     * Item p = plane p: for each output (oy, ox), dIn at the window's first maximum (scanning rows,
     * then columns; the first NaN if the window holds one) gets dOut[p, oy, ox] added.
     *
     * <p>Written without data-dependent branches: which element is largest is a coin toss on real
     * data, and a mispredicted branch per comparison made this loop three times slower. The index
     * is kept with a conditional move (int select on a float compare) and the maximum with
     * Math.max; windows holding a NaN (the maximum is then NaN) take the careful loop.
     */
    private final Parallel.Task backwardPlanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int p = from; p < to; p++) {
                int inBase = p * inH * inW, outBase = p * outH * outW;
                for (int oy = 0; oy < outH; oy++) {
                    int ox = kernel == 2 && stride == 2 ? backwardRow2x2(inBase + 2 * oy * inW, outBase + oy * outW) : 0;
                    for (; ox < outW; ox++) {
                        int corner = inBase + oy * stride * inW + ox * stride, best = corner;
                        float max = in[corner];
                        if (kernel == 2) {
                            int right = corner + 1, below = corner + inW, diagonal = below + 1;
                            best = in[right] > max ? right : best;
                            max = Math.max(max, in[right]);
                            best = in[below] > max ? below : best;
                            max = Math.max(max, in[below]);
                            best = in[diagonal] > max ? diagonal : best;
                            max = Math.max(max, in[diagonal]);
                        } else {
                            for (int r = 0; r < kernel; r++) {
                                for (int s = 0, at = corner + r * inW; s < kernel; s++, at++) {
                                    best = in[at] > max ? at : best;
                                    max = Math.max(max, in[at]);
                                }
                            }
                        }
                        if (max != max) best = firstNaN(corner);
                        dIn[best] += dOut[outBase + oy * outW + ox];
                    }
                }
            }
        }
    };

    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    /** Swaps the two lanes of each pair: lane 2i sees its window partner 2i+1 and back. */
    private static final VectorShuffle<Float> PARTNER = VectorShuffle.fromValues(S8, 1, 0, 3, 2, 5, 4, 7, 6);
    private static final VectorMask<Float> EVEN = VectorMask.fromValues(S8, true, false, true, false, true, false, true, false);
    /** Gathers dOut[o + i / 2] into lane i: each window's gradient in both of its columns. */
    private static final int[] TWICE = {0, 0, 1, 1, 2, 2, 3, 3};

    /**
     * The 2x2 stride-2 backward for whole groups of 4 windows of one output row, 8 lanes each: lane
     * i holds input column 2 * ox0 + i of the window row pair (top row at row0, bottom at row0 + inW).
     * Each lane finds its window's maximum (its own value, its pair partner's, and the same two in
     * the other row) and whether it is the window's first maximum in reading order (top-left,
     * top-right, bottom-left, bottom-right); those lanes get the window's output gradient. Groups
     * holding a NaN are left to the scalar loop. Returns the first output column not done.
     */
    private int backwardRow2x2(int row0, int outRow) {
        int ox = 0, row1 = row0 + inW;
        for (; ox + 4 <= outW; ox += 4) {
            int x = 2 * ox;
            FloatVector top = FloatVector.fromArray(S8, in, row0 + x), bottom = FloatVector.fromArray(S8, in, row1 + x);
            FloatVector topPartner = top.rearrange(PARTNER), bottomPartner = bottom.rearrange(PARTNER);
            FloatVector max = top.max(topPartner).max(bottom.max(bottomPartner));
            if (max.compare(VectorOperators.NE, max).anyTrue()) return ox;  // a NaN: the scalar loop decides
            VectorMask<Float> topIsMax = top.eq(max), topPartnerIsMax = topPartner.eq(max);
            VectorMask<Float> topTakes = topIsMax.and(EVEN.or(topPartnerIsMax.not()));
            VectorMask<Float> bottomTakes = bottom.eq(max).and(topIsMax.or(topPartnerIsMax).not())
                    .and(EVEN.or(bottomPartner.eq(max).not()));
            FloatVector grad = FloatVector.fromArray(S8, dOut, outRow + ox, TWICE, 0);
            FloatVector.fromArray(S8, dIn, row0 + x).add(grad, topTakes).intoArray(dIn, row0 + x);
            FloatVector.fromArray(S8, dIn, row1 + x).add(grad, bottomTakes).intoArray(dIn, row1 + x);
        }
        return ox;
    }

    /** The first NaN of the window whose top-left element is at corner. */
    private int firstNaN(int corner) {
        for (int r = 0; r < kernel; r++) {
            for (int s = 0; s < kernel; s++) if (Float.isNaN(in[corner + r * inW + s])) return corner + r * inW + s;
        }
        throw new IllegalStateException("no NaN in the window at " + corner);
    }
}
