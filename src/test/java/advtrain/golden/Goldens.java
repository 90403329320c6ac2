package advtrain.golden;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PyTorch golden files (written by the tools/make_*goldens.py scripts into src/test/resources/goldens/) and
 * the one error measure the golden tests use.
 *
 * <p>The measure is max|got - expected| / max|expected| over a whole tensor: the largest error on
 * the scale the tensor lives on. A per-element relative error would be wrong for elements that are
 * sums of terms that cancel: a conv output of 1e-6 made of terms of size 1 carries float32 rounding
 * of about 1e-7 in ANY correct float32 implementation, a relative error of 0.1. For a scalar (a loss)
 * the measure is the ordinary relative error. The goldens are float64 results rounded to float32,
 * so the measure compares the engine with the exact answer, not with PyTorch's own float32 rounding.
 */
final class Goldens {
    /** The limits: ≤ 1e-5 per op, ≤ 1e-4 for the whole Net and for the SGD steps. */
    static final double OP_TOLERANCE = 1e-5, NET_TOLERANCE = 1e-4;

    private Goldens() {}

    /** The tools/ script that writes a golden file. */
    static String generator(String file) {
        if (file.startsWith("resnet/")) return "make_resnet_goldens.py";
        if (file.startsWith("resnet_ops")) return "make_resnet_op_goldens.py";
        if (file.startsWith("norm")) return "make_norm_goldens.py";
        if (file.startsWith("optim")) return "make_optim_goldens.py";
        return "make_goldens.py";
    }

    static Path path(String file) {
        URL url = Goldens.class.getResource("/goldens/" + file);
        assertNotNull(url, "golden file goldens/" + file + " is missing: run /usr/bin/python3 tools/" + generator(file));
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Safetensors.Contents read(String file) {
        try {
            return Safetensors.read(path(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static HostTensor tensor(Safetensors.Contents contents, String name) {
        HostTensor t = contents.tensors().get(name);
        assertNotNull(t, "golden tensor " + name + " is missing");
        return t;
    }

    /** max|got - expected| / max|expected| (see the class comment); infinite for NaN. */
    static double error(float[] expected, float[] got) {
        assertEquals(expected.length, got.length, "element count");
        double maxError = 0, maxValue = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) got[i] - expected[i]);
            if (Double.isNaN(e)) return Double.POSITIVE_INFINITY;
            maxError = Math.max(maxError, e);
            maxValue = Math.max(maxValue, Math.abs(expected[i]));
        }
        return maxValue == 0 ? maxError : maxError / maxValue;
    }

    /** Fails with the name, the error, the limit and the worst element when the error is over the limit. */
    static void assertClose(String what, HostTensor expected, float[] got, double tolerance) {
        double error = error(expected.values(), got);
        if (error <= tolerance) return;
        int worst = 0;
        for (int i = 1; i < got.length; i++) {
            if (!(Math.abs(got[i] - expected.values()[i]) <= Math.abs(got[worst] - expected.values()[worst]))) worst = i;
        }
        fail(String.format("%s %s: error %.3g (max|got - expected| / max|expected|) is over %.0e; worst at flat index %d:"
                        + " expected %.9g, got %.9g", what, expected.shape(), error, tolerance, worst,
                expected.values()[worst], got[worst]));
    }

    /** Elements start, start + step, ... of a flattened array (Python's a[start::step]). */
    static float[] strided(float[] values, int start, int step) {
        float[] out = new float[Math.max(0, (values.length - start + step - 1) / step)];
        for (int i = 0; i < out.length; i++) out[i] = values[start + i * step];
        return out;
    }

    /** A golden tensor of the file, put on the backend. */
    static Tensor upload(Backend be, Safetensors.Contents file, String name) {
        HostTensor t = tensor(file, name);
        return Tensors.fromArray(be, t.values(), t.shape().dims());
    }

    /** Runs one check, keeping its failure message instead of stopping, so a test reports every mismatch at once. */
    static void collect(List<String> failures, Runnable check) {
        try {
            check.run();
        } catch (AssertionError e) {
            failures.add(e.getMessage());
        }
    }

    /** The ops a golden file has cases for (each case's metadata names its "op"). */
    static Set<String> opsIn(Safetensors.Contents file) {
        Set<String> ops = new TreeSet<>();
        for (String json : file.metadata().values()) ops.add((String) ((Map<?, ?>) Json.parse(json)).get("op"));
        return ops;
    }
}
