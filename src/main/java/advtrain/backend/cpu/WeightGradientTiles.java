package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The register tiles of {@link ConvWeightGradient}'s CHANNELS paths: each sums, for a block of
 * output channels in vector lanes and a few taps, output gradient times input over a flat run of
 * (image, output pixel) steps, the sums kept in vector registers. One flat loop each, not nested
 * loops: C2 boxed the accumulators of a loop nested in another.
 */
final class WeightGradientTiles {
    private static final int VL = Gemm.VL;
    private static final int PAIR_TAPS = ConvPlan.PAIR_TAP_TILE;

    private WeightGradientTiles() {}

    /**
     * The 15-tap register tile, one flat loop over (image, output pixel) (a nested loop made C2 box
     * the accumulators): t[i * VL + l] = sum over steps of g[g0 + step * gStep + l] * x[pixel's
     * offset + o_i], where step = (n * outH + oy) * outW + ox and the pixel's offset is
     * n * xSlice + oy * padW + ox, the padded input's tap (0, 0, 0) for that output pixel.
     */
    static void tileTaps(int steps, int outW, int outH, int padW, int xSlice, int gStep, float[] g, int g0,
                                 float[] x, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7, int o8,
                                 int o9, int o10, int o11, int o12, int o13, int o14, float[] t) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z;
        FloatVector c12 = z, c13 = z, c14 = z;
        int gi = g0, image = 0, row = 0, ox = 0, oy = 0;
        for (int step = 0; step < steps; step++) {
            FloatVector gv = FloatVector.fromArray(Gemm.S, g, gi);
            int xi = row + ox;
            c0 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o0]), c0);
            c1 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o1]), c1);
            c2 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o2]), c2);
            c3 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o3]), c3);
            c4 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o4]), c4);
            c5 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o5]), c5);
            c6 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o6]), c6);
            c7 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o7]), c7);
            c8 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o8]), c8);
            c9 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o9]), c9);
            c10 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o10]), c10);
            c11 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o11]), c11);
            c12 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o12]), c12);
            c13 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o13]), c13);
            c14 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o14]), c14);
            gi += gStep;
            if (++ox == outW) {
                ox = 0;
                row += padW;
                if (++oy == outH) { oy = 0; image += xSlice; row = image; }
            }
        }
        c0.intoArray(t, 0); c1.intoArray(t, VL); c2.intoArray(t, 2 * VL); c3.intoArray(t, 3 * VL);
        c4.intoArray(t, 4 * VL); c5.intoArray(t, 5 * VL); c6.intoArray(t, 6 * VL); c7.intoArray(t, 7 * VL);
        c8.intoArray(t, 8 * VL); c9.intoArray(t, 9 * VL); c10.intoArray(t, 10 * VL); c11.intoArray(t, 11 * VL);
        c12.intoArray(t, 12 * VL); c13.intoArray(t, 13 * VL); c14.intoArray(t, 14 * VL);
    }

    /**
     * The two-vector, 12-tap register tile, continuing sums kept at t[tBase..]: vector a of tap i at
     * t[tBase + i * VL], vector b (channels VL on) at t[tBase + (12 + i) * VL]. As tileTaps, one flat
     * loop over (image, output pixel), here from the image whose padded input starts at x[xStart].
     */
    static void tilePairTaps(int steps, int outW, int outH, int padW, int xSlice, int xStart, int gStep, float[] g, int g0,
                                     float[] x, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7, int o8,
                                     int o9, int o10, int o11, float[] t, int tBase) {
        int b = tBase + PAIR_TAPS * VL;
        FloatVector a0 = FloatVector.fromArray(Gemm.S, t, tBase), a1 = FloatVector.fromArray(Gemm.S, t, tBase + VL);
        FloatVector a2 = FloatVector.fromArray(Gemm.S, t, tBase + 2 * VL), a3 = FloatVector.fromArray(Gemm.S, t, tBase + 3 * VL);
        FloatVector a4 = FloatVector.fromArray(Gemm.S, t, tBase + 4 * VL), a5 = FloatVector.fromArray(Gemm.S, t, tBase + 5 * VL);
        FloatVector a6 = FloatVector.fromArray(Gemm.S, t, tBase + 6 * VL), a7 = FloatVector.fromArray(Gemm.S, t, tBase + 7 * VL);
        FloatVector a8 = FloatVector.fromArray(Gemm.S, t, tBase + 8 * VL), a9 = FloatVector.fromArray(Gemm.S, t, tBase + 9 * VL);
        FloatVector a10 = FloatVector.fromArray(Gemm.S, t, tBase + 10 * VL), a11 = FloatVector.fromArray(Gemm.S, t, tBase + 11 * VL);
        FloatVector b0 = FloatVector.fromArray(Gemm.S, t, b), b1 = FloatVector.fromArray(Gemm.S, t, b + VL);
        FloatVector b2 = FloatVector.fromArray(Gemm.S, t, b + 2 * VL), b3 = FloatVector.fromArray(Gemm.S, t, b + 3 * VL);
        FloatVector b4 = FloatVector.fromArray(Gemm.S, t, b + 4 * VL), b5 = FloatVector.fromArray(Gemm.S, t, b + 5 * VL);
        FloatVector b6 = FloatVector.fromArray(Gemm.S, t, b + 6 * VL), b7 = FloatVector.fromArray(Gemm.S, t, b + 7 * VL);
        FloatVector b8 = FloatVector.fromArray(Gemm.S, t, b + 8 * VL), b9 = FloatVector.fromArray(Gemm.S, t, b + 9 * VL);
        FloatVector b10 = FloatVector.fromArray(Gemm.S, t, b + 10 * VL), b11 = FloatVector.fromArray(Gemm.S, t, b + 11 * VL);
        int gi = g0, image = xStart, row = xStart, ox = 0, oy = 0;
        for (int step = 0; step < steps; step++) {
            FloatVector ga = FloatVector.fromArray(Gemm.S, g, gi), gb = FloatVector.fromArray(Gemm.S, g, gi + VL);
            int xi = row + ox;
            FloatVector x0 = FloatVector.broadcast(Gemm.S, x[xi + o0]); a0 = ga.fma(x0, a0); b0 = gb.fma(x0, b0);
            FloatVector x1 = FloatVector.broadcast(Gemm.S, x[xi + o1]); a1 = ga.fma(x1, a1); b1 = gb.fma(x1, b1);
            FloatVector x2 = FloatVector.broadcast(Gemm.S, x[xi + o2]); a2 = ga.fma(x2, a2); b2 = gb.fma(x2, b2);
            FloatVector x3 = FloatVector.broadcast(Gemm.S, x[xi + o3]); a3 = ga.fma(x3, a3); b3 = gb.fma(x3, b3);
            FloatVector x4 = FloatVector.broadcast(Gemm.S, x[xi + o4]); a4 = ga.fma(x4, a4); b4 = gb.fma(x4, b4);
            FloatVector x5 = FloatVector.broadcast(Gemm.S, x[xi + o5]); a5 = ga.fma(x5, a5); b5 = gb.fma(x5, b5);
            FloatVector x6 = FloatVector.broadcast(Gemm.S, x[xi + o6]); a6 = ga.fma(x6, a6); b6 = gb.fma(x6, b6);
            FloatVector x7 = FloatVector.broadcast(Gemm.S, x[xi + o7]); a7 = ga.fma(x7, a7); b7 = gb.fma(x7, b7);
            FloatVector x8 = FloatVector.broadcast(Gemm.S, x[xi + o8]); a8 = ga.fma(x8, a8); b8 = gb.fma(x8, b8);
            FloatVector x9 = FloatVector.broadcast(Gemm.S, x[xi + o9]); a9 = ga.fma(x9, a9); b9 = gb.fma(x9, b9);
            FloatVector x10 = FloatVector.broadcast(Gemm.S, x[xi + o10]); a10 = ga.fma(x10, a10); b10 = gb.fma(x10, b10);
            FloatVector x11 = FloatVector.broadcast(Gemm.S, x[xi + o11]); a11 = ga.fma(x11, a11); b11 = gb.fma(x11, b11);
            gi += gStep;
            if (++ox == outW) {
                ox = 0;
                row += padW;
                if (++oy == outH) { oy = 0; image += xSlice; row = image; }
            }
        }
        a0.intoArray(t, tBase); a1.intoArray(t, tBase + VL); a2.intoArray(t, tBase + 2 * VL); a3.intoArray(t, tBase + 3 * VL);
        a4.intoArray(t, tBase + 4 * VL); a5.intoArray(t, tBase + 5 * VL); a6.intoArray(t, tBase + 6 * VL); a7.intoArray(t, tBase + 7 * VL);
        a8.intoArray(t, tBase + 8 * VL); a9.intoArray(t, tBase + 9 * VL); a10.intoArray(t, tBase + 10 * VL); a11.intoArray(t, tBase + 11 * VL);
        b0.intoArray(t, b); b1.intoArray(t, b + VL); b2.intoArray(t, b + 2 * VL); b3.intoArray(t, b + 3 * VL);
        b4.intoArray(t, b + 4 * VL); b5.intoArray(t, b + 5 * VL); b6.intoArray(t, b + 6 * VL); b7.intoArray(t, b + 7 * VL);
        b8.intoArray(t, b + 8 * VL); b9.intoArray(t, b + 9 * VL); b10.intoArray(t, b + 10 * VL); b11.intoArray(t, b + 11 * VL);
    }

    /**
     * ROW_TAPS' tile: 8 filter rows i (padded-input offsets o0..o7 of their tap s = 0) by 3 taps s,
     * continuing sums at t[tBase + (3 i + s) * VL]. Step = (image, output row oy, input column j),
     * j in [0, outW + 2): the input value x[row + j + o_i] meets tap s with the output gradient of
     * pixel j - s, at g[gi + (2 - s) * gStep] in byPaddedRows' layout (rows of outW + 4 pixels, two
     * zero pixels each side). One flat loop over the steps, from the image at x[xStart].
     */
    static void tileRowTaps(int steps, int columns, int outH, int padW, int xSlice, int xStart, int gStep, float[] g, int g0,
                            float[] x, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7, float[] t, int tBase) {
        FloatVector a00 = FloatVector.fromArray(Gemm.S, t, tBase + 0 * VL), a01 = FloatVector.fromArray(Gemm.S, t, tBase + 1 * VL), a02 = FloatVector.fromArray(Gemm.S, t, tBase + 2 * VL);
        FloatVector a10 = FloatVector.fromArray(Gemm.S, t, tBase + 3 * VL), a11 = FloatVector.fromArray(Gemm.S, t, tBase + 4 * VL), a12 = FloatVector.fromArray(Gemm.S, t, tBase + 5 * VL);
        FloatVector a20 = FloatVector.fromArray(Gemm.S, t, tBase + 6 * VL), a21 = FloatVector.fromArray(Gemm.S, t, tBase + 7 * VL), a22 = FloatVector.fromArray(Gemm.S, t, tBase + 8 * VL);
        FloatVector a30 = FloatVector.fromArray(Gemm.S, t, tBase + 9 * VL), a31 = FloatVector.fromArray(Gemm.S, t, tBase + 10 * VL), a32 = FloatVector.fromArray(Gemm.S, t, tBase + 11 * VL);
        FloatVector a40 = FloatVector.fromArray(Gemm.S, t, tBase + 12 * VL), a41 = FloatVector.fromArray(Gemm.S, t, tBase + 13 * VL), a42 = FloatVector.fromArray(Gemm.S, t, tBase + 14 * VL);
        FloatVector a50 = FloatVector.fromArray(Gemm.S, t, tBase + 15 * VL), a51 = FloatVector.fromArray(Gemm.S, t, tBase + 16 * VL), a52 = FloatVector.fromArray(Gemm.S, t, tBase + 17 * VL);
        FloatVector a60 = FloatVector.fromArray(Gemm.S, t, tBase + 18 * VL), a61 = FloatVector.fromArray(Gemm.S, t, tBase + 19 * VL), a62 = FloatVector.fromArray(Gemm.S, t, tBase + 20 * VL);
        FloatVector a70 = FloatVector.fromArray(Gemm.S, t, tBase + 21 * VL), a71 = FloatVector.fromArray(Gemm.S, t, tBase + 22 * VL), a72 = FloatVector.fromArray(Gemm.S, t, tBase + 23 * VL);
        FloatVector v;
        int gi = g0, image = xStart, row = xStart, j = 0, oy = 0;
        for (int step = 0; step < steps; step++) {
            FloatVector s2 = FloatVector.fromArray(Gemm.S, g, gi), s1 = FloatVector.fromArray(Gemm.S, g, gi + gStep);
            FloatVector s0 = FloatVector.fromArray(Gemm.S, g, gi + 2 * gStep);
            int xi = row + j;
            v = FloatVector.broadcast(Gemm.S, x[xi + o0]); a00 = s0.fma(v, a00); a01 = s1.fma(v, a01); a02 = s2.fma(v, a02);
            v = FloatVector.broadcast(Gemm.S, x[xi + o1]); a10 = s0.fma(v, a10); a11 = s1.fma(v, a11); a12 = s2.fma(v, a12);
            v = FloatVector.broadcast(Gemm.S, x[xi + o2]); a20 = s0.fma(v, a20); a21 = s1.fma(v, a21); a22 = s2.fma(v, a22);
            v = FloatVector.broadcast(Gemm.S, x[xi + o3]); a30 = s0.fma(v, a30); a31 = s1.fma(v, a31); a32 = s2.fma(v, a32);
            v = FloatVector.broadcast(Gemm.S, x[xi + o4]); a40 = s0.fma(v, a40); a41 = s1.fma(v, a41); a42 = s2.fma(v, a42);
            v = FloatVector.broadcast(Gemm.S, x[xi + o5]); a50 = s0.fma(v, a50); a51 = s1.fma(v, a51); a52 = s2.fma(v, a52);
            v = FloatVector.broadcast(Gemm.S, x[xi + o6]); a60 = s0.fma(v, a60); a61 = s1.fma(v, a61); a62 = s2.fma(v, a62);
            v = FloatVector.broadcast(Gemm.S, x[xi + o7]); a70 = s0.fma(v, a70); a71 = s1.fma(v, a71); a72 = s2.fma(v, a72);
            gi += gStep;
            if (++j == columns) {
                j = 0;
                gi += 2 * gStep;  // past the row's two trailing zero pixels
                row += padW;
                if (++oy == outH) { oy = 0; image += xSlice; row = image; }
            }
        }
        a00.intoArray(t, tBase + 0 * VL); a01.intoArray(t, tBase + 1 * VL); a02.intoArray(t, tBase + 2 * VL);
        a10.intoArray(t, tBase + 3 * VL); a11.intoArray(t, tBase + 4 * VL); a12.intoArray(t, tBase + 5 * VL);
        a20.intoArray(t, tBase + 6 * VL); a21.intoArray(t, tBase + 7 * VL); a22.intoArray(t, tBase + 8 * VL);
        a30.intoArray(t, tBase + 9 * VL); a31.intoArray(t, tBase + 10 * VL); a32.intoArray(t, tBase + 11 * VL);
        a40.intoArray(t, tBase + 12 * VL); a41.intoArray(t, tBase + 13 * VL); a42.intoArray(t, tBase + 14 * VL);
        a50.intoArray(t, tBase + 15 * VL); a51.intoArray(t, tBase + 16 * VL); a52.intoArray(t, tBase + 17 * VL);
        a60.intoArray(t, tBase + 18 * VL); a61.intoArray(t, tBase + 19 * VL); a62.intoArray(t, tBase + 20 * VL);
        a70.intoArray(t, tBase + 21 * VL); a71.intoArray(t, tBase + 22 * VL); a72.intoArray(t, tBase + 23 * VL);
    }
}
