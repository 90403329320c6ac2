package advtrain.nn;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Buffers in the state_dict: PyTorch's order, both dtypes, strict loading, files. */
class BuffersTest {
    private final Backend be = new CpuBackend();
    @TempDir Path dir;

    /** A module shaped like PyTorch's BatchNorm2d as far as the state_dict goes. */
    static final class Stats extends Module {
        final Variable weight, bias;
        final Buffer runningMean, runningVar, tracked = Buffer.counter();

        Stats(Backend be, int channels, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            weight = Layers.uniformParameter(be, Shape.of(channels), 1, random);
            bias = Layers.uniformParameter(be, Shape.of(channels), 1, random);
            runningMean = Buffer.of(be.allocate(Shape.of(channels)));
            runningVar = Buffer.of(be.allocate(Shape.of(channels)));
            float[] values = new float[channels];
            for (int i = 0; i < channels; i++) values[i] = (float) random.nextDouble();
            be.write(runningMean.tensor(), values, 0);
            tracked.setCount(seed * 1000 + 7);
        }

        @Override public Variable forward(Variable x) { return x; }

        @Override protected Map<String, Variable> ownParameters() {
            Map<String, Variable> m = new LinkedHashMap<>();
            m.put("weight", weight);
            m.put("bias", bias);
            return m;
        }

        @Override protected Map<String, Buffer> ownBuffers() {
            Map<String, Buffer> m = new LinkedHashMap<>();
            m.put("running_mean", runningMean);
            m.put("running_var", runningVar);
            m.put("num_batches_tracked", tracked);
            return m;
        }
    }

    private Sequential model(long seed) {
        Sequential s = new Sequential();
        s.add("conv", new Layers.Linear(be, 3, 2, new SplittableRandom(seed)));
        s.add("bn", new Stats(be, 2, seed));
        return s;
    }

    @Test
    void stateDictListsParametersThenBuffersPerModuleInPyTorchOrder() {
        Sequential m = model(1);
        assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                "bn.num_batches_tracked"), List.copyOf(ModelFiles.stateDict(m, be).keySet()));
        assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias"), List.copyOf(m.namedParameters().keySet()),
                "the optimizer sees parameters only");
        HostTensor tracked = ModelFiles.stateDict(m, be).get("bn.num_batches_tracked");
        assertEquals("I64", tracked.dtype());
        assertEquals(Shape.of(), tracked.shape());
        assertEquals(1007, tracked.longValues()[0]);
    }

    @Test
    void savedBuffersLoadBackExactly() throws IOException {
        Path file = dir.resolve("m.safetensors");
        ModelFiles.save(model(1), be, file, Map.of());
        Sequential fresh = model(2);
        ModelFiles.load(fresh, be, file);
        Map<String, HostTensor> expected = ModelFiles.stateDict(model(1), be), got = ModelFiles.stateDict(fresh, be);
        assertEquals(expected.keySet(), got.keySet());
        expected.forEach((name, t) -> {
            if (t.isLong()) assertArrayEquals(t.longValues(), got.get(name).longValues(), name);
            else assertArrayEquals(t.values(), got.get(name).values(), name);
        });
        assertEquals(1007, ((Stats) fresh.childList().get(1)).tracked.count());
    }

    @Test
    void loadingIsStrictAboutBufferNamesAndDtypes() {
        Map<String, HostTensor> state = new LinkedHashMap<>(ModelFiles.stateDict(model(1), be));
        state.remove("bn.num_batches_tracked");
        assertRejectedUnchanged(state, "missing [bn.num_batches_tracked]", "unexpected []");

        Map<String, HostTensor> floatCounter = new LinkedHashMap<>(ModelFiles.stateDict(model(1), be));
        floatCounter.put("bn.num_batches_tracked", new HostTensor(Shape.of(), new float[] {3}));
        assertRejectedUnchanged(floatCounter, "bn.num_batches_tracked has dtype F32, the model needs I64");

        Map<String, HostTensor> longMean = new LinkedHashMap<>(ModelFiles.stateDict(model(1), be));
        longMean.put("bn.running_mean", HostTensor.ofLongs(Shape.of(2), new long[] {1, 2}));
        assertRejectedUnchanged(longMean, "bn.running_mean has dtype I64, the model needs F32");

        Map<String, HostTensor> badVar = new LinkedHashMap<>(ModelFiles.stateDict(model(1), be));
        badVar.put("bn.running_var", new HostTensor(Shape.of(2), new float[] {1, Float.NaN}));
        assertRejectedUnchanged(badVar, "bn.running_var holds NaN");
    }

    private void assertRejectedUnchanged(Map<String, HostTensor> state, String... fragments) {
        Sequential m = model(3);
        Map<String, HostTensor> before = ModelFiles.stateDict(m, be);
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class,
                () -> ModelFiles.loadState(m, be, state, "w.safetensors"));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "should mention \"" + f + "\": " + e.getMessage());
        Map<String, HostTensor> after = ModelFiles.stateDict(m, be);
        before.forEach((name, t) -> {
            if (t.isLong()) assertArrayEquals(t.longValues(), after.get(name).longValues(), name);
            else assertArrayEquals(t.values(), after.get(name).values(), name);
        });
    }

    @Test
    void aFileWithoutArchIsTheSeedsNetAndAnUnknownArchIsRefused() throws IOException {
        Path plain = dir.resolve("plain.safetensors");
        Safetensors.write(plain, ModelFiles.stateDict(new Net(be, 0), be), Map.of("format", "pt"));
        assertEquals(Architectures.LENET, Architectures.nameInFile(plain));
        assertInstanceOf(Net.class, Architectures.load(be, plain));

        Path saved = dir.resolve("saved.safetensors");
        ModelFiles.save(new Net(be, 0), be, saved, Map.of());
        assertEquals("lenet", Safetensors.read(saved).metadata().get("arch"), "a saved file names its network");

        Path odd = dir.resolve("odd.safetensors");
        Safetensors.write(odd, ModelFiles.stateDict(new Net(be, 0), be), Map.of("arch", "vgg99"));
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class, () -> Architectures.load(be, odd));
        assertTrue(e.getMessage().contains("'vgg99'") && e.getMessage().contains("lenet"), e.getMessage());
    }
}
