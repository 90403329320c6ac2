package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Vector API loops for the element-wise kernels the JIT does not vectorise by itself (a
 * conditional select, a float sum). Each runs over [off, off + len): whole vectors first, then the
 * last few elements one by one.
 */
final class Vec {
    private static final int VL = Gemm.VL;

    private Vec() {}

    /*
     * Shuffles and a mask for splitting 2 VL consecutive floats (two vectors, lo and hi) into their
     * even and odd elements: evens = lo.rearrange(EVEN_LOW).blend(hi.rearrange(EVEN_LOW), UPPER).
     * A single-vector rearrange is one permute instruction; JDK 17's two-vector rearrange was not
     * compiled to instructions here (it allocated, and took 80 ns a call).
     */
    /** Lane i takes lane 2i mod VL (EVEN_LOW) or 2i + 1 mod VL (ODD_LOW). */
    static final VectorShuffle<Float> EVEN_LOW = shuffle(i -> 2 * i % VL), ODD_LOW = shuffle(i -> (2 * i + 1) % VL);
    /** The upper half of the lanes. */
    static final VectorMask<Float> UPPER = mask(i -> i >= VL / 2);

    /** The shuffle whose lane i takes lane lane(i). */
    static VectorShuffle<Float> shuffle(java.util.function.IntUnaryOperator lane) {
        int[] index = new int[VL];
        for (int i = 0; i < VL; i++) index[i] = lane.applyAsInt(i);
        return VectorShuffle.fromArray(Gemm.S, index, 0);
    }

    /** The mask set in the lanes i where lane(i). */
    static VectorMask<Float> mask(java.util.function.IntPredicate lane) {
        boolean[] bits = new boolean[VL];
        for (int i = 0; i < VL; i++) bits[i] = lane.test(i);
        return VectorMask.fromArray(Gemm.S, bits, 0);
    }

    /** Lane i takes lane i / 2 (SPREAD_LOW) or VL/2 + i / 2 (SPREAD_HIGH); the odd lanes. */
    private static final VectorShuffle<Float> SPREAD_LOW = shuffle(i -> i / 2), SPREAD_HIGH = shuffle(i -> VL / 2 + i / 2);
    private static final VectorMask<Float> ODD_LANES = mask(i -> i % 2 == 1);

    /**
     * splitEvenOdd's inverse: the VL floats at src[evens] and at src[odds] interleaved (e0 o0 e1 o1
     * ...), the first VL of the result to dst[at], the second to dst[hiAt], or added there (add).
     */
    static void interleave(float[] src, int evens, int odds, float[] dst, int at, int hiAt, boolean add) {
        FloatVector e = FloatVector.fromArray(Gemm.S, src, evens), o = FloatVector.fromArray(Gemm.S, src, odds);
        FloatVector lo = e.rearrange(SPREAD_LOW).blend(o.rearrange(SPREAD_LOW), ODD_LANES);
        FloatVector hi = e.rearrange(SPREAD_HIGH).blend(o.rearrange(SPREAD_HIGH), ODD_LANES);
        if (add) {  // (no vector assigned on two paths: C2 would box it)
            lo.add(FloatVector.fromArray(Gemm.S, dst, at)).intoArray(dst, at);
            hi.add(FloatVector.fromArray(Gemm.S, dst, hiAt)).intoArray(dst, hiAt);
        } else {
            lo.intoArray(dst, at);
            hi.intoArray(dst, hiAt);
        }
    }

    /**
     * The VL x VL block src[srcAt + r * srcStride + c] transposed: dst[dstAt + c * dstStride + r].
     * In log2(VL) rounds of {@link #interleave} through tmp[tmpAt, + 2 VL * VL): a round zips row i
     * with row i + VL/2 into rows 2i and 2i + 1, which moves the column index's top bit to the
     * bottom of the row index; after all rounds the two indices have traded places. Per pair of
     * rows and round: 2 vector loads, 4 permutes, 2 blends and 2 stores, where an element-by-element
     * transpose does a load and a scattered store per element.
     */
    static void transpose(float[] src, int srcAt, int srcStride, float[] dst, int dstAt, int dstStride, float[] tmp, int tmpAt) {
        transpose(src, srcAt, srcStride, dst, dstAt, dstAt + VL / 2 * dstStride, dstStride, tmp, tmpAt);
    }

    /** transpose with the result's second half of rows (columns VL/2 on of the block) at dst[dstHighAt + (c - VL/2) * dstStride]. */
    static void transpose(float[] src, int srcAt, int srcStride, float[] dst, int dstAt, int dstHighAt, int dstStride, float[] tmp, int tmpAt) {
        int rounds = Integer.numberOfTrailingZeros(VL), half = VL / 2;
        float[] in = src;
        int inAt = srcAt, inStride = srcStride;
        for (int round = 0; round < rounds; round++) {
            boolean last = round == rounds - 1;
            float[] out = last ? dst : tmp;
            int outAt = last ? dstAt : tmpAt + (round % 2) * VL * VL, outStride = last ? dstStride : VL;
            for (int i = 0; i < half; i++) {
                int row = last && 2 * i >= half ? dstHighAt + (2 * i - half) * outStride : outAt + 2 * i * outStride;
                interleave(in, inAt + i * inStride, inAt + (i + half) * inStride, out, row, row + outStride, false);
            }
            in = out; inAt = outAt; inStride = outStride;
        }
    }

    /**
     * Planes [channels][pixels] at src[srcAt..] into pixel-major order, dst[dstAt + p * channels + c]:
     * by VL x VL blocks ({@link #transpose}, through tmp[tmpAt, + 2 VL * VL)) where the channels and
     * the pixels come in whole vectors, else (or with tmp null) element by element.
     */
    static void pixelMajor(float[] src, int srcAt, int channels, int pixels, float[] dst, int dstAt, float[] tmp, int tmpAt) {
        if (tmp != null && channels % VL == 0 && pixels % VL == 0) {
            for (int c = 0; c < channels; c += VL) {
                for (int p = 0; p < pixels; p += VL) transpose(src, srcAt + c * pixels + p, pixels, dst, dstAt + p * channels + c, channels, tmp, tmpAt);
            }
            return;
        }
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < pixels; p++) dst[dstAt + p * channels + c] = src[srcAt + c * pixels + p];
        }
    }

    /** dst[to, + VL) = src[a, + VL/2) then src[b, + VL/2): two half rows joined by a blend (src[a + VL) must exist). */
    static void joinHalves(float[] src, int a, int b, float[] dst, int to) {
        FloatVector.fromArray(Gemm.S, src, a).blend(FloatVector.fromArray(Gemm.S, src, b - VL / 2), UPPER).intoArray(dst, to);
    }

    /** The 2 VL floats at src[at]: the even ones (x[0], x[2], ...) to dst[evens], the odd ones to dst[odds], VL each. */
    static void splitEvenOdd(float[] src, int at, float[] dst, int evens, int odds) {
        FloatVector lo = FloatVector.fromArray(Gemm.S, src, at), hi = FloatVector.fromArray(Gemm.S, src, at + VL);
        lo.rearrange(EVEN_LOW).blend(hi.rearrange(EVEN_LOW), UPPER).intoArray(dst, evens);
        lo.rearrange(ODD_LOW).blend(hi.rearrange(ODD_LOW), UPPER).intoArray(dst, odds);
    }

    /** The sum of x[off .. off + len), in VL partial sums added at the end. */
    static float sum(float[] x, int off, int len) {
        FloatVector acc = FloatVector.zero(Gemm.S);
        int i = 0, whole = len - len % VL;
        for (; i < whole; i += VL) acc = acc.add(FloatVector.fromArray(Gemm.S, x, off + i));
        float s = 0;  // lane by lane: reduceLanes is not compiled to vector code on every JDK 17 build
        for (int lane = 0; lane < VL; lane++) s += acc.lane(lane);
        for (; i < len; i++) s += x[off + i];
        return s;
    }

    /** y[i] = x[i] > 0 ? x[i] : 0 (so NaN and -0 give +0, as the reference loop does). */
    static void relu(float[] x, float[] y, int off, int len) {
        FloatVector zero = FloatVector.zero(Gemm.S);
        int i = 0, whole = len - len % VL;
        for (; i < whole; i += VL) {
            FloatVector v = FloatVector.fromArray(Gemm.S, x, off + i);
            zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, off + i);
        }
        for (; i < len; i++) y[off + i] = x[off + i] > 0 ? x[off + i] : 0f;
    }

    /**
     * y[i] = sign(x[i]): 1, -1, or 0 for zero and NaN. Branch-free: an attack's gradient signs are
     * random, and a branch per element mispredicts half the time (the scalar loop ran 15x slower).
     */
    static void sign(float[] x, float[] y, int off, int len) {
        FloatVector zero = FloatVector.zero(Gemm.S), one = FloatVector.broadcast(Gemm.S, 1f), minusOne = one.neg();
        int i = 0, whole = len - len % VL;
        for (; i < whole; i += VL) {
            FloatVector v = FloatVector.fromArray(Gemm.S, x, off + i);
            zero.blend(one, v.compare(VectorOperators.GT, 0f)).blend(minusOne, v.compare(VectorOperators.LT, 0f))
                    .intoArray(y, off + i);
        }
        for (; i < len; i++) y[off + i] = x[off + i] > 0 ? 1f : x[off + i] < 0 ? -1f : 0f;
    }

    /** dx[i] += dy[i] where y[i] > 0. */
    static void reluBackward(float[] y, float[] dy, float[] dx, int off, int len) {
        int i = 0, whole = len - len % VL;
        for (; i < whole; i += VL) {
            VectorMask<Float> on = FloatVector.fromArray(Gemm.S, y, off + i).compare(VectorOperators.GT, 0f);
            FloatVector old = FloatVector.fromArray(Gemm.S, dx, off + i);
            // blend rather than adding a zero: where y <= 0, dx keeps its bits (-0 stays -0, as on OpenCL)
            old.blend(old.add(FloatVector.fromArray(Gemm.S, dy, off + i)), on).intoArray(dx, off + i);
        }
        for (; i < len; i++) if (y[off + i] > 0) dx[off + i] += dy[off + i];
    }

    /** dx[off + i] = y > 0 ? dy : 0 for i < len: reluBackward into a gradient not yet written. */
    static void reluBackwardFresh(float[] y, float[] dy, float[] dx, int off, int len) {
        int i = 0, whole = len - len % VL;
        FloatVector zero = FloatVector.zero(Gemm.S);
        for (; i < whole; i += VL) {
            VectorMask<Float> on = FloatVector.fromArray(Gemm.S, y, off + i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(Gemm.S, dy, off + i), on).intoArray(dx, off + i);
        }
        for (; i < len; i++) dx[off + i] = y[off + i] > 0 ? dy[off + i] : 0f;
    }

    /**
     * dst[dOff + r * dStride + i] = src[sOff + r * sStride + i] + bias for r < rows, i < cols. Rows
     * of at least VL are copied in whole vectors, the last one overlapping the one before (it writes
     * the same values again); shorter rows one element at a time.
     */
    static void copyRows(float[] src, int sOff, int sStride, float[] dst, int dOff, int dStride, int rows, int cols, float bias) {
        FloatVector b = FloatVector.broadcast(Gemm.S, bias);
        for (int r = 0; r < rows; r++) {
            int s = sOff + r * sStride, d = dOff + r * dStride;
            if (cols >= VL) {
                for (int i = 0; i < cols; i += VL) {
                    int at = Math.min(i, cols - VL);
                    FloatVector.fromArray(Gemm.S, src, s + at).add(b).intoArray(dst, d + at);
                }
            } else {
                for (int i = 0; i < cols; i++) dst[d + i] = src[s + i] + bias;
            }
        }
    }

    /** dst[dOff + r * dStride + i] += src[sOff + r * sStride + i] for r < rows, i < cols. */
    static void addRows(float[] src, int sOff, int sStride, float[] dst, int dOff, int dStride, int rows, int cols) {
        int whole = cols - cols % VL;
        for (int r = 0; r < rows; r++) {
            int s = sOff + r * sStride, d = dOff + r * dStride;
            for (int i = 0; i < whole; i += VL) {
                FloatVector.fromArray(Gemm.S, src, s + i).add(FloatVector.fromArray(Gemm.S, dst, d + i)).intoArray(dst, d + i);
            }
            for (int i = whole; i < cols; i++) dst[d + i] += src[s + i];
        }
    }
}
