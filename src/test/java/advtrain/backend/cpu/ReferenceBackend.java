package advtrain.backend.cpu;

import advtrain.backend.Backend;
import advtrain.backend.Checks;
import advtrain.backend.ConvGeometry;
import advtrain.backend.PoolGeometry;
import advtrain.backend.Rng;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The test oracle: a copy of the first, simple pure-Java backend, kept in the test tree so the
 * fast {@link CpuBackend} can be compared with it kernel by kernel ({@code CpuKernelsTest}).
 * Every kernel is the textbook loop nest over float arrays, run on the calling thread, with no
 * blocking, vectorisation or scratch buffers: slow, and easy to check by reading.
 * Its tensors are {@link HeapStorage} arrays, so the two backends can share tensors.
 */
public final class ReferenceBackend implements Backend {

    @Override public String name() { return "reference"; }

    @Override public String deviceName() {
        return "Java " + Runtime.version().feature() + ", 1 thread (reference loops)";
    }

    /** The body of a loop over [from, to). */
    private interface RangeBody { void run(int from, int to); }

    /** Runs the whole range on the calling thread; costPerItem is ignored (kept from the parallel original). */
    private static void serial(int n, long costPerItem, RangeBody body) { body.run(0, n); }

    static float[] data(Tensor t) {
        if (t.storage() instanceof HeapStorage h) return h.data;
        throw new IllegalArgumentException("tensor " + t + " does not belong to the java backend");
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new Tensor(shape, new HeapStorage(shape.size())); }

    @Override public void release(Tensor tensor) { /* the garbage collector frees heap arrays */ }

    @Override public void write(Tensor dst, float[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, data(dst), 0, dst.size());
    }

    @Override public void read(Tensor src, float[] dst, int dstOffset) {
        System.arraycopy(data(src), 0, dst, dstOffset, src.size());
    }

    @Override public void fill(Tensor tensor, float value) {
        java.util.Arrays.fill(data(tensor), 0, tensor.size(), value);
    }

    @Override public void copy(Tensor src, Tensor dst) {
        Checks.sameSize("copy", src, dst);
        System.arraycopy(data(src), 0, data(dst), 0, src.size());
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("add", a, b, out);
        float[] x = data(a), y = data(b), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = x[i] + y[i];
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        Checks.sameSize("axpy", x, y);
        float[] xs = data(x), ys = data(y);
        for (int i = 0, n = y.size(); i < n; i++) ys[i] += alpha * xs[i];
    }

    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) {
        Checks.sameSize("affine", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = alpha * xs[i] + beta;
    }

    @Override public void sign(Tensor x, Tensor out) {
        Checks.sameSize("sign", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = xs[i] > 0 ? 1f : xs[i] < 0 ? -1f : 0f;
    }

    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Checks.sameSize("clamp", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.min(Math.max(xs[i], lo), hi);
    }

    @Override public void rsqrt(Tensor x, float floor, Tensor out) {
        Checks.sameSize("rsqrt", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = (float) (1.0 / Math.sqrt(Math.max(xs[i], floor)));
    }

    @Override public void minimum(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("minimum", a, b, out);
        float[] x = data(a), y = data(b), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.min(x[i], y[i]);
    }

    @Override public void maximum(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("maximum", a, b, out);
        float[] x = data(a), y = data(b), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.max(x[i], y[i]);
    }

    @Override public void sum(Tensor x, Tensor out) {
        float[] xs = data(x);
        double total = 0;  // double: a sum of 10^5 floats keeps its digits
        for (int i = 0, n = x.size(); i < n; i++) total += xs[i];
        data(out)[0] = (float) total;
    }

    @Override public void addScalarTimes(Tensor scalar, float alpha, Tensor out) {
        float v = alpha * data(scalar)[0];
        float[] o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] += v;
    }

    @Override public void rowSumSquares(Tensor x, Tensor out) {
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), o = data(out);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0, base = r * cols; c < cols; c++) s += (double) xs[base + c] * xs[base + c];
            o[r] = (float) s;
        }
    }

    @Override public void rowScale(Tensor x, Tensor scales, Tensor out) {
        Checks.sameSize("rowScale", x, out);
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), s = data(scales), o = data(out);
        for (int r = 0; r < rows; r++) {
            for (int c = 0, base = r * cols; c < cols; c++) o[base + c] = xs[base + c] * s[r];
        }
    }

    @Override public void argmaxRows(Tensor x, Tensor out) {
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), o = data(out);
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) if (xs[r * cols + c] > xs[r * cols + best]) best = c;
            o[r] = best;
        }
    }

    @Override public void uniform(Tensor out, float lo, float hi, long seed) {
        float[] o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Rng.uniform(seed, i, lo, hi);
    }

    // ---- convolution ----------------------------------------------------------------------------

    @Override public void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2d", input, weight, output, stride, padding);
        float[] in = data(input), w = data(weight), out = data(output);
        float[] b = bias == null ? null : data(bias);
        serial(g.batch * g.outChannels, g.flopsPerOutputPlane(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int n = plane / g.outChannels, k = plane % g.outChannels;
                int outBase = plane * g.outH * g.outW;
                java.util.Arrays.fill(out, outBase, outBase + g.outH * g.outW, b == null ? 0f : b[k]);
                for (int c = 0; c < g.inChannels; c++) {
                    int inBase = (n * g.inChannels + c) * g.inH * g.inW;
                    for (int r = 0; r < g.kernelH; r++) {
                        for (int s = 0; s < g.kernelW; s++) {
                            float wv = w[((k * g.inChannels + c) * g.kernelH + r) * g.kernelW + s];
                            for (int oy = 0; oy < g.outH; oy++) {
                                int iy = oy * stride - padding + r;
                                if (iy < 0 || iy >= g.inH) continue;
                                int outRow = outBase + oy * g.outW, inRow = inBase + iy * g.inW;
                                for (int ox = 0; ox < g.outW; ox++) {
                                    int ix = ox * stride - padding + s;
                                    if (ix >= 0 && ix < g.inW) out[outRow + ox] += wv * in[inRow + ix];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2dBackward", input, weight, outputGrad, stride, padding);
        float[] in = data(input), w = data(weight), dOut = data(outputGrad);
        int outPlane = g.outH * g.outW;
        if (inputGrad != null) {
            Checks.sameShape("conv2dBackward inputGrad", input, inputGrad);
            float[] dIn = data(inputGrad);
            // One loop over images (the parallel original split it over images).
            serial(g.batch, g.flopsPerOutputPlane() * g.outChannels, (from, to) -> {
                for (int n = from; n < to; n++) {
                    for (int k = 0; k < g.outChannels; k++) {
                        int outBase = (n * g.outChannels + k) * outPlane;
                        for (int c = 0; c < g.inChannels; c++) {
                            int inBase = (n * g.inChannels + c) * g.inH * g.inW;
                            for (int r = 0; r < g.kernelH; r++) {
                                for (int s = 0; s < g.kernelW; s++) {
                                    float wv = w[((k * g.inChannels + c) * g.kernelH + r) * g.kernelW + s];
                                    for (int oy = 0; oy < g.outH; oy++) {
                                        int iy = oy * stride - padding + r;
                                        if (iy < 0 || iy >= g.inH) continue;
                                        for (int ox = 0; ox < g.outW; ox++) {
                                            int ix = ox * stride - padding + s;
                                            if (ix >= 0 && ix < g.inW) {
                                                dIn[inBase + iy * g.inW + ix] += wv * dOut[outBase + oy * g.outW + ox];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            });
        }
        if (weightGrad != null || biasGrad != null) {
            float[] dW = weightGrad == null ? null : data(weightGrad);
            float[] dB = biasGrad == null ? null : data(biasGrad);
            // One loop over output channels: each channel's filter gradient sums over the batch.
            serial(g.outChannels, g.flopsPerOutputPlane() * g.batch, (from, to) -> {
                for (int k = from; k < to; k++) {
                    for (int n = 0; n < g.batch; n++) {
                        int outBase = (n * g.outChannels + k) * outPlane;
                        if (dB != null) {
                            float s = 0;
                            for (int i = 0; i < outPlane; i++) s += dOut[outBase + i];
                            dB[k] += s;
                        }
                        if (dW == null) continue;
                        for (int c = 0; c < g.inChannels; c++) {
                            int inBase = (n * g.inChannels + c) * g.inH * g.inW;
                            for (int r = 0; r < g.kernelH; r++) {
                                for (int s = 0; s < g.kernelW; s++) {
                                    float acc = 0;
                                    for (int oy = 0; oy < g.outH; oy++) {
                                        int iy = oy * stride - padding + r;
                                        if (iy < 0 || iy >= g.inH) continue;
                                        for (int ox = 0; ox < g.outW; ox++) {
                                            int ix = ox * stride - padding + s;
                                            if (ix >= 0 && ix < g.inW) acc += in[inBase + iy * g.inW + ix] * dOut[outBase + oy * g.outW + ox];
                                        }
                                    }
                                    dW[((k * g.inChannels + c) * g.kernelH + r) * g.kernelW + s] += acc;
                                }
                            }
                        }
                    }
                }
            });
        }
    }

    // ---- pooling --------------------------------------------------------------------------------

    @Override public void maxPool2d(Tensor input, Tensor output, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2d", input, output, kernel, stride);
        float[] in = data(input), out = data(output);
        serial(g.planes, (long) g.outH * g.outW * kernel * kernel, (from, to) -> {
            for (int p = from; p < to; p++) {
                int inBase = p * g.inH * g.inW, outBase = p * g.outH * g.outW;
                for (int oy = 0; oy < g.outH; oy++) {
                    for (int ox = 0; ox < g.outW; ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        for (int r = 0; r < kernel; r++) {
                            int row = inBase + (oy * stride + r) * g.inW + ox * stride;
                            for (int s = 0; s < kernel; s++) {
                                float v = in[row + s];
                                if (v > best || Float.isNaN(v)) best = v;
                            }
                        }
                        out[outBase + oy * g.outW + ox] = best;
                    }
                }
            }
        });
    }

    @Override public void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2dBackward", input, outputGrad, kernel, stride);
        Checks.sameShape("maxPool2dBackward inputGrad", input, inputGrad);
        float[] in = data(input), dOut = data(outputGrad), dIn = data(inputGrad);
        serial(g.planes, (long) g.outH * g.outW * kernel * kernel, (from, to) -> {
            for (int p = from; p < to; p++) {
                int inBase = p * g.inH * g.inW, outBase = p * g.outH * g.outW;
                for (int oy = 0; oy < g.outH; oy++) {
                    for (int ox = 0; ox < g.outW; ox++) {
                        int bestIndex = -1;
                        float best = Float.NEGATIVE_INFINITY;
                        for (int r = 0; r < kernel; r++) {
                            int row = inBase + (oy * stride + r) * g.inW + ox * stride;
                            for (int s = 0; s < kernel; s++) {
                                float v = in[row + s];
                                if (bestIndex < 0 || v > best || (Float.isNaN(v) && !Float.isNaN(best))) {
                                    best = v;
                                    bestIndex = row + s;
                                }
                            }
                        }
                        dIn[bestIndex] += dOut[outBase + oy * g.outW + ox];
                    }
                }
            }
        });
    }

    // ---- linear ---------------------------------------------------------------------------------

    @Override public void linear(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        Checks.linear("linear", input, weight, output);
        float[] x = data(input), w = data(weight), y = data(output);
        float[] b = bias == null ? null : data(bias);
        serial(batch, 2L * inF * outF, (from, to) -> {
            for (int n = from; n < to; n++) {
                for (int o = 0; o < outF; o++) {
                    float acc = 0;
                    for (int i = 0; i < inF; i++) acc += x[n * inF + i] * w[o * inF + i];
                    y[n * outF + o] = acc + (b == null ? 0f : b[o]);
                }
            }
        });
    }

    @Override public void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad) {
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        Checks.linear("linearBackward", input, weight, outputGrad);
        float[] x = data(input), w = data(weight), dy = data(outputGrad);
        if (inputGrad != null) {
            Checks.sameSize("linearBackward inputGrad", input, inputGrad);
            float[] dx = data(inputGrad);
            // dx[n, i] += sum_o dy[n, o] * w[o, i]
            serial(batch, 2L * inF * outF, (from, to) -> {
                for (int n = from; n < to; n++) {
                    for (int o = 0; o < outF; o++) {
                        float g = dy[n * outF + o];
                        for (int i = 0; i < inF; i++) dx[n * inF + i] += g * w[o * inF + i];
                    }
                }
            });
        }
        if (weightGrad != null) {
            float[] dw = data(weightGrad);
            // dw[o, i] += sum_n dy[n, o] * x[n, i]
            serial(outF, 2L * inF * batch, (from, to) -> {
                for (int o = from; o < to; o++) {
                    for (int n = 0; n < batch; n++) {
                        float g = dy[n * outF + o];
                        for (int i = 0; i < inF; i++) dw[o * inF + i] += g * x[n * inF + i];
                    }
                }
            });
        }
        if (biasGrad != null) {
            float[] db = data(biasGrad);
            for (int n = 0; n < batch; n++) for (int o = 0; o < outF; o++) db[o] += dy[n * outF + o];
        }
    }

    // ---- activations and loss -------------------------------------------------------------------

    @Override public void relu(Tensor input, Tensor output) {
        Checks.sameSize("relu", input, output);
        float[] x = data(input), y = data(output);
        for (int i = 0, n = output.size(); i < n; i++) y[i] = x[i] > 0 ? x[i] : 0f;
    }

    @Override public void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("reluBackward", output, outputGrad, inputGrad);
        float[] y = data(output), dy = data(outputGrad), dx = data(inputGrad);
        for (int i = 0, n = output.size(); i < n; i++) if (y[i] > 0) dx[i] += dy[i];
    }

    @Override public void logSoftmax(Tensor input, Tensor output) {
        Checks.sameSize("logSoftmax", input, output);
        int rows = input.shape().dim(0), cols = input.shape().rowSize();
        float[] x = data(input), y = data(output);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[base + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.exp(x[base + c] - max);
            float logSum = (float) Math.log(sum);
            for (int c = 0; c < cols; c++) y[base + c] = x[base + c] - max - logSum;
        }
    }

    @Override public void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("logSoftmaxBackward", output, outputGrad, inputGrad);
        int rows = output.shape().dim(0), cols = output.shape().rowSize();
        float[] y = data(output), dy = data(outputGrad), dx = data(inputGrad);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float gradSum = 0;
            for (int c = 0; c < cols; c++) gradSum += dy[base + c];
            for (int c = 0; c < cols; c++) dx[base + c] += dy[base + c] - (float) Math.exp(y[base + c]) * gradSum;
        }
    }

    @Override public void nllLoss(Tensor logProbs, Tensor labels, Tensor losses) {
        int rows = logProbs.shape().dim(0), cols = logProbs.shape().rowSize();
        Checks.labels("nllLoss", logProbs, labels);
        float[] lp = data(logProbs), y = data(labels), l = data(losses);
        for (int r = 0; r < rows; r++) l[r] = -lp[r * cols + Checks.label(y[r], cols)];
    }

    @Override public void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad) {
        int rows = logProbsGrad.shape().dim(0), cols = logProbsGrad.shape().rowSize();
        Checks.labels("nllLossBackward", logProbsGrad, labels);
        float[] y = data(labels), dl = data(lossesGrad), dlp = data(logProbsGrad);
        for (int r = 0; r < rows; r++) dlp[r * cols + Checks.label(y[r], cols)] -= dl[r];
    }

    // ---- optimiser ------------------------------------------------------------------------------

    @Override public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum) {
        Checks.sameSize("sgdStep", param, grad, velocity);
        float[] p = data(param), g = data(grad), v = data(velocity);
        for (int i = 0, n = param.size(); i < n; i++) {
            v[i] = momentum * v[i] + g[i];
            p[i] -= lr * v[i];
        }
    }
}
