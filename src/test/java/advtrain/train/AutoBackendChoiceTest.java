package advtrain.train;

import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.backend.select.Backends;
import advtrain.backend.select.SpeedProbe;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --backend auto} on a machine whose OpenCL device is a CPU: it must pick the backend that
 * trains faster here. Each backend trains an epoch of 100 batches of 32 (random images: a step's
 * cost does not depend on the pixels) once its code is compiled, as a run's later epochs do, and
 * auto's choice, as a run makes it with nothing cached (a brief comparison), is checked against the
 * faster one; the outcome is cached with how it was decided.
 */
class AutoBackendChoiceTest {
    private static final int BATCH = 32, BATCHES = 100;

    @Test
    void autoPicksTheBackendThatTrainsAnEpochFaster(@TempDir Path cache) throws IOException {
        TestBackends.get("opencl");  // skips, with the reason, where there is no OpenCL
        Assumptions.assumeFalse(OpenCl.devices().stream().anyMatch(OpenCl.Device::gpu), "a GPU is there: auto takes it unmeasured");
        OpenCl.Device cpu = OpenCl.devices().get(0);
        double javaSeconds, openclSeconds;
        try (Backend java = new CpuBackend()) {
            javaSeconds = warmEpochSeconds(java);
        }
        try (Backend opencl = new OpenClBackend(cpu)) {
            openclSeconds = warmEpochSeconds(opencl);
        }
        System.setProperty("advtrain.cacheDir", cache.toString());
        try {
            // what a run does with nothing cached: the brief comparison (a couple of seconds per backend)
            String picked = Backends.autoName(null, WarmUp.stepTimer(BATCH), false);
            String reason = Backends.autoReason(null, WarmUp.stepTimer(BATCH), false);
            String faster = javaSeconds < openclSeconds ? "java" : "opencl";
            String figures = String.format("an epoch of %d batches: java %.2f s, opencl %.2f s; auto: %s", BATCHES, javaSeconds, openclSeconds, reason);
            System.err.println(figures);
            double ratio = Math.max(javaSeconds, openclSeconds) / Math.min(javaSeconds, openclSeconds);
            assertTrue(reason.contains("cached in"), reason);
            if (ratio < 1.2) return;  // within 20 %: too close to call on a shared machine; either choice is right
            assertEquals(faster, picked, figures);
            assertTrue(Files.readString(cache.resolve("backend-speed.properties")).matches("(?s).*,(WARM|JAVA_FASTER_COLD|UNDECIDED)\\R.*"),
                    "the outcome is cached with how it was decided");
        } finally {
            System.clearProperty("advtrain.cacheDir");
        }
    }

    /** Seconds of one epoch of BATCHES batches, after the JIT has finished compiling the step. */
    private static double warmEpochSeconds(Backend backend) {
        Net net = new Net(backend, 0);
        Sgd sgd = new Sgd(backend, net.parameters(), 1e-4f, 0.9f);
        Dataset images = random(BATCH * BATCHES);
        BatchLoader epoch = new BatchLoader(images, BATCH, true, false, 0), oneBatch = new BatchLoader(images.limit(BATCH), BATCH, false, false, 0);
        try (Trainer trainer = new Trainer(backend, net, sgd, Objective.standard())) {
            SpeedProbe.untilCompiled(() -> trainer.trainEpoch(oneBatch, 0, null), 60);
            return trainer.trainEpoch(epoch, 1, null).seconds();
        }
    }

    private static Dataset random(int n) {
        SplittableRandom random = new SplittableRandom(3);
        byte[] pixels = new byte[n * Dataset.IMAGE_BYTES], labels = new byte[n];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) random.nextInt(256);
        for (int i = 0; i < n; i++) labels[i] = (byte) random.nextInt(10);
        return new Dataset(pixels, labels, n);
    }
}
