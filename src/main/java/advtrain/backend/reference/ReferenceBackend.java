package advtrain.backend.reference;

import advtrain.backend.Backend;
import advtrain.backend.Checks;
import advtrain.backend.ConvGeometry;
import advtrain.backend.PoolGeometry;
import advtrain.backend.Rng;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.Arrays;

/**
 * The definition of every kernel: one plain loop nest each, on the calling thread, with no
 * blocking, no vector instructions, no fusion and no caches. Slow (a training step takes many times
 * as long as on the tuned Java backend), and easy to check by reading; every other backend is
 * tested against it ({@code --backend reference} runs it from the command line).
 *
 * <p>Tensors are {@link HeapStorage} arrays, row-major: element (n, c, y, x) of an [N, C, H, W]
 * tensor is at ((n * C + c) * H + y) * W + x. The tuned Java backend ({@code backend.cpu}) keeps
 * tensors the same way and inherits the kernels it does not make faster from this class.
 */
public class ReferenceBackend implements Backend {

    @Override public String name() { return "reference"; }

    @Override public String deviceName() {
        return "Java " + Runtime.version().feature() + ", 1 thread (plain loops, the definition)";
    }

    /** The array behind a tensor. */
    protected static float[] data(Tensor t) { return HeapStorage.array(t); }

    // ---- memory ---------------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new Tensor(shape, new HeapStorage(new float[shape.size()])); }

    @Override public void release(Tensor tensor) { /* the garbage collector frees heap arrays */ }

    @Override public void write(Tensor dst, float[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, data(dst), 0, dst.size());
    }

    @Override public void read(Tensor src, float[] dst, int dstOffset) {
        System.arraycopy(data(src), 0, dst, dstOffset, src.size());
    }

    @Override public void fill(Tensor tensor, float value) {
        Arrays.fill(data(tensor), 0, tensor.size(), value);
    }

    @Override public void copy(Tensor src, Tensor dst) {
        Checks.sameSize("copy", src, dst);
        System.arraycopy(data(src), 0, data(dst), 0, src.size());
    }

    // ---- elementwise: element i of the output from element i of the inputs ----------------------

    @Override public void unary(UnaryOp op, Tensor x, Tensor out) {
        Checks.sameSize("unary", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) {
            float v = xs[i];
            o[i] = switch (op) {
                case SIGN -> v > 0 ? 1f : v < 0 ? -1f : 0f;
                case RSQRT -> (float) (1.0 / Math.sqrt(v));
                case RELU -> v > 0 ? v : 0f;
            };
        }
    }

    /** Group g of the output (groupSize consecutive elements) meets element g of b: a same-size b has groups of one. */
    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("binary", a, out);
        int groupSize = Checks.groupSize("binary", b, a);
        float[] x = data(a), y = data(b), o = data(out);
        for (int g = 0, groups = b.size(); g < groups; g++) {
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                o[i] = switch (op) {
                    case ADD -> x[i] + y[g];
                    case MUL -> x[i] * y[g];
                    case MIN -> Math.min(x[i], y[g]);
                    case MAX -> Math.max(x[i], y[g]);
                };
            }
        }
    }

    /** Group g of y (groupSize consecutive elements) gets alpha * x[g]; a same-size x has groups of one. */
    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        int groupSize = Checks.groupSize("axpy", x, y);
        float[] xs = data(x), ys = data(y);
        for (int g = 0, groups = x.size(); g < groups; g++) {
            float step = alpha * xs[g];
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) ys[i] += step;
        }
    }

    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) {
        Checks.sameSize("affine", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = alpha * xs[i] + beta;
    }

    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Checks.sameSize("clamp", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.min(Math.max(xs[i], lo), hi);
    }

    // ---- reductions and random numbers ------------------------------------------------------------

    /** out[g] from x's elements [g * groupSize, (g + 1) * groupSize). */
    @Override public void reduce(ReduceOp op, Tensor x, Tensor out) {
        int groupSize = Checks.groupSize("reduce", out, x);
        float[] xs = data(x), o = data(out);
        for (int g = 0, groups = out.size(); g < groups; g++) {
            int start = g * groupSize;
            if (op == ReduceOp.ARGMAX) {
                int best = 0;
                for (int j = 1; j < groupSize; j++) if (xs[start + j] > xs[start + best]) best = j;
                o[g] = best;
            } else {
                double total = 0;  // double: a sum of 10^5 floats keeps its digits
                for (int j = 0; j < groupSize; j++) {
                    double v = xs[start + j];
                    total += op == ReduceOp.SUM ? v : v * v;
                }
                o[g] = (float) total;
            }
        }
    }

    @Override public void uniform(Tensor out, float lo, float hi, long seed) {
        float[] o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Rng.uniform(seed, i, lo, hi);
    }

    // ---- convolution ----------------------------------------------------------------------------

    /**
     * output[n, k, oy, ox] = bias[k] + sum over c, r, s of weight[k, c, r, s] * input[n, c, iy, ix],
     * where iy = oy * stride - padding + r and ix = ox * stride - padding + s; taps that fall in the
     * padding read zero, so they are skipped. The loops run plane by plane (image n, output channel
     * k), adding one filter tap (c, r, s) at a time over the whole output plane, so the innermost
     * loop walks along a row of the output and of the input.
     */
    @Override public void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2d", input, weight, output, stride, padding);
        float[] in = data(input), w = data(weight), out = data(output), b = bias == null ? null : data(bias);
        for (int n = 0; n < g.batch; n++) {
            for (int k = 0; k < g.outChannels; k++) {
                int outPlane = (n * g.outChannels + k) * g.outH * g.outW;
                Arrays.fill(out, outPlane, outPlane + g.outH * g.outW, b == null ? 0f : b[k]);
                for (int c = 0; c < g.inChannels; c++) {
                    int inPlane = (n * g.inChannels + c) * g.inH * g.inW;
                    for (int r = 0; r < g.kernelH; r++) {
                        for (int s = 0; s < g.kernelW; s++) {
                            float tap = w[((k * g.inChannels + c) * g.kernelH + r) * g.kernelW + s];
                            for (int oy = 0; oy < g.outH; oy++) {
                                int iy = oy * stride - padding + r;
                                if (iy < 0 || iy >= g.inH) continue;
                                for (int ox = 0; ox < g.outW; ox++) {
                                    int ix = ox * stride - padding + s;
                                    if (ix >= 0 && ix < g.inW) out[outPlane + oy * g.outW + ox] += tap * in[inPlane + iy * g.inW + ix];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The forward loops again, each product's contribution sent back. Input gradient: every
     * output element (n, k, oy, ox) and tap (c, r, s) adds weight[k, c, r, s] * outputGrad[n, k, oy, ox]
     * to inputGrad[n, c, iy, ix]. Weight gradient: weightGrad[k, c, r, s] adds up
     * input[n, c, iy, ix] * outputGrad[n, k, oy, ox] over n, oy, ox (one image's sum at a time).
     * Bias gradient: biasGrad[k] adds up outputGrad[n, k, oy, ox] over n, oy, ox.
     */
    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2dBackward", input, weight, outputGrad, stride, padding);
        if (inputGrad != null) Checks.sameShape("conv2dBackward inputGrad", input, inputGrad);
        if (weightGrad != null) Checks.sameShape("conv2dBackward weightGrad", weight, weightGrad);
        if (biasGrad != null && biasGrad.size() != g.outChannels) {
            throw new IllegalArgumentException("conv2dBackward: biasGrad " + biasGrad.shape() + " for weight " + weight.shape());
        }
        float[] in = data(input), w = data(weight), dOut = data(outputGrad);
        float[] dIn = inputGrad == null ? null : data(inputGrad), dW = weightGrad == null ? null : data(weightGrad);
        float[] dB = biasGrad == null ? null : data(biasGrad);
        for (int n = 0; n < g.batch; n++) {
            for (int k = 0; k < g.outChannels; k++) {
                int outPlane = (n * g.outChannels + k) * g.outH * g.outW;
                if (dB != null) {
                    float planeSum = 0;
                    for (int i = 0; i < g.outH * g.outW; i++) planeSum += dOut[outPlane + i];
                    dB[k] += planeSum;
                }
                for (int c = 0; c < g.inChannels; c++) {
                    int inPlane = (n * g.inChannels + c) * g.inH * g.inW;
                    for (int r = 0; r < g.kernelH; r++) {
                        for (int s = 0; s < g.kernelW; s++) {
                            int tap = ((k * g.inChannels + c) * g.kernelH + r) * g.kernelW + s;
                            float tapGrad = 0;
                            for (int oy = 0; oy < g.outH; oy++) {
                                int iy = oy * stride - padding + r;
                                if (iy < 0 || iy >= g.inH) continue;
                                for (int ox = 0; ox < g.outW; ox++) {
                                    int ix = ox * stride - padding + s;
                                    if (ix < 0 || ix >= g.inW) continue;
                                    float gradOut = dOut[outPlane + oy * g.outW + ox];
                                    if (dIn != null) dIn[inPlane + iy * g.inW + ix] += w[tap] * gradOut;
                                    if (dW != null) tapGrad += in[inPlane + iy * g.inW + ix] * gradOut;
                                }
                            }
                            if (dW != null) dW[tap] += tapGrad;
                        }
                    }
                }
            }
        }
    }

    // ---- pooling --------------------------------------------------------------------------------

    /**
     * output[p, oy, ox] = the largest of input[p, oy * stride + r, ox * stride + s] over r, s in
     * [0, kernel), for each plane p = n * C + c; NaN wins, as in PyTorch.
     */
    @Override public void maxPool2d(Tensor input, Tensor output, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2d", input, output, kernel, stride);
        float[] in = data(input), out = data(output);
        for (int p = 0; p < g.planes; p++) {
            for (int oy = 0; oy < g.outH; oy++) {
                for (int ox = 0; ox < g.outW; ox++) {
                    float best = Float.NEGATIVE_INFINITY;
                    for (int r = 0; r < kernel; r++) {
                        for (int s = 0; s < kernel; s++) {
                            float v = in[(p * g.inH + oy * stride + r) * g.inW + ox * stride + s];
                            if (v > best || Float.isNaN(v)) best = v;
                        }
                    }
                    out[(p * g.outH + oy) * g.outW + ox] = best;
                }
            }
        }
    }

    /** Each window finds its first maximum again (row by row) and adds the window's output gradient there. */
    @Override public void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2dBackward", input, outputGrad, kernel, stride);
        Checks.sameShape("maxPool2dBackward inputGrad", input, inputGrad);
        float[] in = data(input), dOut = data(outputGrad), dIn = data(inputGrad);
        for (int p = 0; p < g.planes; p++) {
            for (int oy = 0; oy < g.outH; oy++) {
                for (int ox = 0; ox < g.outW; ox++) {
                    int bestIndex = -1;
                    float best = Float.NEGATIVE_INFINITY;
                    for (int r = 0; r < kernel; r++) {
                        for (int s = 0; s < kernel; s++) {
                            int i = (p * g.inH + oy * stride + r) * g.inW + ox * stride + s;
                            if (bestIndex < 0 || in[i] > best || (Float.isNaN(in[i]) && !Float.isNaN(best))) {
                                best = in[i];
                                bestIndex = i;
                            }
                        }
                    }
                    dIn[bestIndex] += dOut[(p * g.outH + oy) * g.outW + ox];
                }
            }
        }
    }

    // ---- linear ---------------------------------------------------------------------------------

    /** output[n, o] = bias[o] + sum over i of input[n, i] * weight[o, i]. */
    @Override public void linear(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        Checks.linear("linear", input, weight, output);
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        float[] x = data(input), w = data(weight), y = data(output), b = bias == null ? null : data(bias);
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < outF; o++) {
                float acc = 0;
                for (int i = 0; i < inF; i++) acc += x[n * inF + i] * w[o * inF + i];
                y[n * outF + o] = acc + (b == null ? 0f : b[o]);
            }
        }
    }

    /**
     * inputGrad[n, i] += sum over o of outputGrad[n, o] * weight[o, i];
     * weightGrad[o, i] += sum over n of outputGrad[n, o] * input[n, i]; biasGrad[o] += sum over n of outputGrad[n, o].
     */
    @Override public void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad) {
        Checks.linear("linearBackward", input, weight, outputGrad);
        if (inputGrad != null) Checks.sameSize("linearBackward inputGrad", input, inputGrad);
        if (weightGrad != null) Checks.sameSize("linearBackward weightGrad", weight, weightGrad);
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        float[] x = data(input), w = data(weight), dy = data(outputGrad);
        float[] dx = inputGrad == null ? null : data(inputGrad), dw = weightGrad == null ? null : data(weightGrad);
        float[] db = biasGrad == null ? null : data(biasGrad);
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < outF; o++) {
                float gradOut = dy[n * outF + o];
                if (db != null) db[o] += gradOut;
                for (int i = 0; i < inF; i++) {
                    if (dx != null) dx[n * inF + i] += gradOut * w[o * inF + i];
                    if (dw != null) dw[o * inF + i] += gradOut * x[n * inF + i];
                }
            }
        }
    }

    // ---- batch normalisation ----------------------------------------------------------------------

    /**
     * Channel c, over its M = N * H * W elements (plane (n, c) of each image): with batchStats, first
     * mean[c] = sum x / M and var[c] = sum (x - mean)^2 / M (two passes, in double); then
     * out = gamma[c] * (x - mean[c]) * invStd + beta[c], invStd = 1 / sqrt(var[c] + eps).
     */
    @Override public void batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps,
                                    boolean batchStats, Tensor out) {
        Checks.batchNorm("batchNorm", x, gamma, beta, mean, var, out);
        int batch = x.shape().dim(0), channels = x.shape().dim(1), plane = x.shape().dim(2) * x.shape().dim(3);
        float[] xs = data(x), o = data(out), mu = data(mean), sigma2 = data(var);
        float[] g = gamma == null ? null : data(gamma), b = beta == null ? null : data(beta);
        for (int c = 0; c < channels; c++) {
            if (batchStats) {
                double sum = 0, squares = 0;
                for (int n = 0; n < batch; n++) {
                    for (int i = (n * channels + c) * plane, end = i + plane; i < end; i++) sum += xs[i];
                }
                double batchMean = sum / ((double) batch * plane);
                for (int n = 0; n < batch; n++) {
                    for (int i = (n * channels + c) * plane, end = i + plane; i < end; i++) {
                        squares += (xs[i] - batchMean) * (xs[i] - batchMean);
                    }
                }
                mu[c] = (float) batchMean;
                sigma2[c] = (float) (squares / ((double) batch * plane));
            }
            float invStd = (float) (1.0 / Math.sqrt((double) sigma2[c] + eps));
            float scale = g == null ? 1f : g[c], shift = b == null ? 0f : b[c];
            for (int n = 0; n < batch; n++) {
                for (int i = (n * channels + c) * plane, end = i + plane; i < end; i++) {
                    o[i] = scale * ((xs[i] - mu[c]) * invStd) + shift;
                }
            }
        }
    }

    /**
     * Channel c: first the sums over its elements of dy and of dy * xhat (in double), xhat =
     * (x - mean[c]) * invStd; they are betaGrad[c] and gammaGrad[c]; then each element's input
     * gradient, gamma * invStd * dy, less (with batchStats) the parts that flow through the
     * batch's mean and variance, gamma * invStd * (sum dy + xhat * sum dy * xhat) / M.
     */
    @Override public void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                            Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        Checks.batchNorm("batchNormBackward", x, gamma, null, mean, var, outGrad);
        if (inputGrad != null) Checks.sameShape("batchNormBackward inputGrad", x, inputGrad);
        Checks.batchNorm("batchNormBackward", x, gammaGrad, betaGrad, mean, var, outGrad);
        int batch = x.shape().dim(0), channels = x.shape().dim(1), plane = x.shape().dim(2) * x.shape().dim(3);
        float[] xs = data(x), dy = data(outGrad), mu = data(mean), sigma2 = data(var), g = gamma == null ? null : data(gamma);
        float[] dx = inputGrad == null ? null : data(inputGrad);
        float[] dGamma = gammaGrad == null ? null : data(gammaGrad), dBeta = betaGrad == null ? null : data(betaGrad);
        double count = (double) batch * plane;
        for (int c = 0; c < channels; c++) {
            float invStd = (float) (1.0 / Math.sqrt((double) sigma2[c] + eps));
            double gradSum = 0, gradDotXhat = 0;
            for (int n = 0; n < batch; n++) {
                for (int i = (n * channels + c) * plane, end = i + plane; i < end; i++) {
                    gradSum += dy[i];
                    gradDotXhat += dy[i] * ((xs[i] - mu[c]) * invStd);
                }
            }
            if (dBeta != null) dBeta[c] += (float) gradSum;
            if (dGamma != null) dGamma[c] += (float) gradDotXhat;
            if (dx == null) continue;
            float scale = (g == null ? 1f : g[c]) * invStd;
            float meanGrad = batchStats ? (float) (gradSum / count) : 0f, meanGradDotXhat = batchStats ? (float) (gradDotXhat / count) : 0f;
            for (int n = 0; n < batch; n++) {
                for (int i = (n * channels + c) * plane, end = i + plane; i < end; i++) {
                    float xhat = (xs[i] - mu[c]) * invStd;
                    dx[i] += scale * (dy[i] - meanGrad - xhat * meanGradDotXhat);
                }
            }
        }
    }

    // ---- activations and loss -------------------------------------------------------------------

    @Override public void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("reluBackward", output, outputGrad, inputGrad);
        float[] y = data(output), dy = data(outputGrad), dx = data(inputGrad);
        for (int i = 0, n = output.size(); i < n; i++) if (y[i] > 0) dx[i] += dy[i];
    }

    /** Row r: y = x - max - log(sum of exp(x - max)); subtracting the max keeps exp from overflowing. */
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

    /** Row r: dx += dy - softmax * (sum of dy over the row), softmax = exp(y). */
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
}
