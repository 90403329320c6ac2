package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max pooling, forward and backward, parallel over planes (image, channel). The 2x2 stride-2 case
 * of the seed has its own loop; other kernel sizes and strides take the general one. Both follow
 * the reference's rules: a NaN in a window wins, and the gradient goes to the first maximum. The
 * backward either adds to the input gradient or, into one not yet written ("fresh"), writes every
 * element, so that it need not be zero-filled first.
 */
final class Pool {
    private static final ThreadLocal<Pool> PER_THREAD = ThreadLocal.withInitial(Pool::new);

    static Pool forThisThread() { return PER_THREAD.get(); }

    private int inH, inW, outH, outW, kernel, stride;
    private float[] in, out, dOut, dIn;
    /**
     * Backward into a gradient not yet written: every element of dIn is written, not added to.
     * Only for 2x2 stride-2 windows that tile the input exactly (the caller checks): each input
     * element is then in exactly one window.
     */
    private boolean fresh;

    private Pool() {}

    void forward(float[] in, float[] out, int planes, int inH, int inW, int outH, int outW, int kernel, int stride) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.out = out;
        Parallel.range(planes, (long) outH * outW * kernel * kernel, forwardPlanes);
        this.in = this.out = null;
    }

    void backward(float[] in, float[] dOut, float[] dIn, int planes, int inH, int inW, int outH, int outW, int kernel, int stride,
                  boolean fresh) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.dOut = dOut; this.dIn = dIn; this.fresh = fresh;
        Parallel.range(planes, 2L * outH * outW * kernel * kernel, backwardPlanes);
        this.in = this.dOut = this.dIn = null;
    }

    private void set(float[] in, int inH, int inW, int outH, int outW, int kernel, int stride) {
        this.in = in; this.inH = inH; this.inW = inW; this.outH = outH; this.outW = outW;
        this.kernel = kernel; this.stride = stride;
    }

    /** Item p = plane p: {@link #forwardPlane} of input plane p into output plane p. */
    private final Parallel.Task forwardPlanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int p = from; p < to; p++) {
                forwardPlane(in, p * inH * inW, inH, inW, out, p * outH * outW, outH, outW, kernel, stride);
            }
        }
    };

    /**
     * One plane: out[outBase + oy * outW + ox] = the largest of in[inBase + (oy*stride + r) * inW +
     * ox*stride + s] over the kernel x kernel window (NaN if the window holds one). Static, so the
     * convolution's fused forward ({@link Conv#forwardPooled}) pools the planes it has just computed.
     */
    static void forwardPlane(float[] in, int inBase, int inH, int inW, float[] out, int outBase, int outH, int outW,
                             int kernel, int stride) {
        if (kernel == 2 && stride == 2) {
            for (int oy = 0; oy < outH; oy++) {
                int row0 = inBase + 2 * oy * inW, row1 = row0 + inW, o = outBase + oy * outW;
                for (int ox = forwardRow2x2(in, row0, inW, out, o, outW, outBase + outH * outW); ox < outW; ox++) {
                    int i = 2 * ox;
                    out[o + ox] = Math.max(Math.max(in[row0 + i], in[row0 + i + 1]), Math.max(in[row1 + i], in[row1 + i + 1]));
                }
            }
            return;
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
                    int ox = kernel == 2 && stride == 2
                            ? backwardRow2x2(inBase + 2 * oy * inW, outBase + oy * outW, inBase + inH * inW) : 0;
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
                        if (fresh) {   // 2x2, stride 2: the window's four elements are this window's alone
                            dIn[corner] = 0f; dIn[corner + 1] = 0f; dIn[corner + inW] = 0f; dIn[corner + inW + 1] = 0f;
                            dIn[best] = dOut[outBase + oy * outW + ox];
                        } else {
                            dIn[best] += dOut[outBase + oy * outW + ox];
                        }
                    }
                }
            }
        }
    };

    private static final VectorSpecies<Float> S = Gemm.S;
    private static final int VL = Gemm.VL;
    /** Swaps the two lanes of each pair: lane 2i sees its window partner 2i+1 and back. */
    private static final VectorShuffle<Float> PARTNER = VectorShuffle.fromOp(S, i -> i ^ 1);
    /** Lanes 0, 2, 4, ...: the left column of each window. */
    private static final VectorMask<Float> LEFT = VectorMask.fromLong(S, 0x5555_5555_5555_5555L);
    /** Moves lane i / 2 to lane i: each window's gradient into both of its columns. */
    private static final VectorShuffle<Float> TWICE = VectorShuffle.fromOp(S, i -> i / 2);
    /** VectorMask.fromArray(S, LANES_FROM, VL - skip) sets lanes skip, skip + 1, ...: VL falses, then VL trues. */
    private static final boolean[] LANES_FROM = new boolean[2 * VL];
    /** VectorMask.fromArray(S, LANES_BELOW, VL - width) sets lanes 0 .. width - 1: VL trues, then VL falses. */
    private static final boolean[] LANES_BELOW = new boolean[2 * VL];

    static {
        for (int i = 0; i < VL; i++) LANES_FROM[VL + i] = true;
        for (int i = 0; i < VL; i++) LANES_BELOW[i] = true;
    }

    /*
     * The Vector API code here uses the same species (Gemm.S) as every other kernel: mixing in a
     * second one (256-bit vectors here, once) made the JDK's shared vector methods see two classes,
     * and C2 then boxed vectors in the matrix kernels (a megabyte of garbage per training step).
     */

    /**
     * The 2x2 stride-2 backward for one output row, VL lanes (VL / 2 windows) at a time: lane i
     * holds input column x + i of the window row pair (top row at row0, bottom at row0 + inW). Each
     * lane finds its window's maximum (its own value, its pair partner's, and the same two in the
     * other row) and whether it is the window's first maximum in reading order (top-left, top-right,
     * bottom-left, bottom-right); those lanes get the window's output gradient. A row whose width is
     * not a multiple of VL ends with a group overlapping the one before, its first lanes masked
     * off. A row narrower than VL (conv2's pooling: 10 columns) is one group whose lanes past the
     * row are masked off: they hold the next row's first columns, whose dIn elements the group
     * stores back unchanged, so it runs only where those stay inside this plane (planeEnd), which
     * this thread owns (a plane's last narrow row pair is left to the scalar loop: a group ending
     * with the row instead measured no faster). Returns the first output column left to the scalar
     * loop: 0 where no group fits (that last row pair; rows whose gradient load would run past the
     * tensor's end); the first window of a group holding a NaN, if one does.
     */
    private int backwardRow2x2(int row0, int outRow, int planeEnd) {
        int width = 2 * outW;
        if (width < VL) {
            if (outRow + VL > dOut.length || row0 + inW + VL > planeEnd) return 0;
            return backwardGroup2x2(row0, outRow, 0, 0, width) ? outW : 0;
        }
        if (outRow + outW + VL / 2 > dOut.length) return 0;
        for (int x = 0; x + VL <= width; x += VL) {
            if (!backwardGroup2x2(row0, outRow, x, 0, VL)) return x / 2;
        }
        int x = width - VL, skip = VL - width % VL;
        if (width % VL != 0 && !backwardGroup2x2(row0, outRow, x, skip, VL)) return (x + skip) / 2;
        return outW;
    }

    /**
     * One group of VL lanes at column x, lanes [skip, limit) taking part: the first `skip` are
     * already done, those from `limit` on are past the row. False, changing nothing, if a window of
     * the group holds a NaN (or a lane past the row does).
     */
    private boolean backwardGroup2x2(int row0, int outRow, int x, int skip, int limit) {
        int row1 = row0 + inW;
        FloatVector top = FloatVector.fromArray(S, in, row0 + x), bottom = FloatVector.fromArray(S, in, row1 + x);
        FloatVector topPartner = top.rearrange(PARTNER), bottomPartner = bottom.rearrange(PARTNER);
        FloatVector max = top.max(topPartner).max(bottom.max(bottomPartner));
        if (max.compare(VectorOperators.NE, max).anyTrue()) return false;
        VectorMask<Float> mine = VectorMask.fromArray(S, LANES_FROM, VL - skip).and(VectorMask.fromArray(S, LANES_BELOW, VL - limit));
        VectorMask<Float> topIsMax = top.eq(max), topPartnerIsMax = topPartner.eq(max);
        VectorMask<Float> topTakes = topIsMax.and(LEFT.or(topPartnerIsMax.not())).and(mine);
        VectorMask<Float> bottomTakes = bottom.eq(max).and(topIsMax.or(topPartnerIsMax).not())
                .and(LEFT.or(bottomPartner.eq(max).not())).and(mine);
        FloatVector grad = FloatVector.fromArray(S, dOut, outRow + x / 2).rearrange(TWICE);
        FloatVector zero = FloatVector.zero(S);
        FloatVector topOld = FloatVector.fromArray(S, dIn, row0 + x), bottomOld = FloatVector.fromArray(S, dIn, row1 + x);
        if (fresh) {   // this group's lanes are written; the others keep what they hold
            topOld.blend(zero.blend(grad, topTakes), mine).intoArray(dIn, row0 + x);
            bottomOld.blend(zero.blend(grad, bottomTakes), mine).intoArray(dIn, row1 + x);
        } else {
            zero.blend(grad, topTakes).add(topOld).intoArray(dIn, row0 + x);
            zero.blend(grad, bottomTakes).add(bottomOld).intoArray(dIn, row1 + x);
        }
        return true;
    }

    /** Lane 2i to lane i (the lanes from VL / 2 on get what is left): each window's maximum, packed. */
    private static final VectorShuffle<Float> PACK = VectorShuffle.fromOp(S, i -> 2 * i % VL);

    /**
     * The 2x2 stride-2 forward for one output row (top input row at row0, outputs from outRow), VL
     * lanes (VL / 2 windows) at a time: each lane's window maximum as in backwardGroup2x2 (Math.max,
     * so a NaN wins), packed into the first VL / 2 lanes and stored as a whole vector. Its upper half
     * lands on outputs not computed yet (the rest of this row or the next, done after it by this same
     * thread), so a group may only store where the whole vector stays inside the plane (planeEnd).
     * A width not a multiple of VL ends with a group overlapping the one before. Returns the first
     * output column left to the scalar loop: 0 for rows narrower than VL.
     */
    private static int forwardRow2x2(float[] in, int row0, int inW, float[] out, int outRow, int outW, int planeEnd) {
        int width = 2 * outW;
        if (width < VL) return 0;
        for (int x = 0; x + VL <= width; x += VL) {
            if (outRow + x / 2 + VL > planeEnd) return x / 2;
            forwardGroup2x2(in, row0, inW, out, outRow, x);
        }
        int x = width - VL;
        if (width % VL != 0) {
            if (outRow + x / 2 + VL > planeEnd) return x / 2;
            forwardGroup2x2(in, row0, inW, out, outRow, x);
        }
        return outW;
    }

    private static void forwardGroup2x2(float[] in, int row0, int inW, float[] out, int outRow, int x) {
        FloatVector top = FloatVector.fromArray(S, in, row0 + x), bottom = FloatVector.fromArray(S, in, row0 + inW + x);
        FloatVector max = top.max(top.rearrange(PARTNER)).max(bottom.max(bottom.rearrange(PARTNER)));
        max.rearrange(PACK).intoArray(out, outRow + x / 2);
    }

    /** The first NaN of the window whose top-left element is at corner. */
    private int firstNaN(int corner) {
        for (int r = 0; r < kernel; r++) {
            for (int s = 0; s < kernel; s++) if (Float.isNaN(in[corner + r * inW + s])) return corner + r * inW + s;
        }
        throw new IllegalStateException("no NaN in the window at " + corner);
    }
}
