package advtrain.nn;

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
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ModelFilesTest {
    private final Backend be = new CpuBackend();
    @TempDir Path dir;

    private static void assertSameWeights(Map<String, HostTensor> expected, Map<String, HostTensor> got) {
        assertEquals(expected.keySet(), got.keySet());
        expected.forEach((name, t) -> {
            assertEquals(t.shape(), got.get(name).shape(), name);
            assertArrayEquals(t.values(), got.get(name).values(), name);
        });
    }

    @Test
    void saveThenLoadRestoresEveryWeightUnderPyTorchNames() throws IOException {
        Net trained = new Net(be, 1);
        Path file = dir.resolve("model.safetensors");
        ModelFiles.save(trained, be, file, Map.of("epochs", "3"));

        Net fresh = new Net(be, 2);
        assertFalse(ModelFiles.stateDict(fresh, be).get("fc1.weight").values()[0] == ModelFiles.stateDict(trained, be).get("fc1.weight").values()[0]);
        Map<String, String> metadata = ModelFiles.load(fresh, be, file);
        assertEquals("3", metadata.get("epochs"));
        assertSameWeights(ModelFiles.stateDict(trained, be), ModelFiles.stateDict(fresh, be));

        Map<String, HostTensor> onDisk = Safetensors.read(file).tensors();
        assertEquals(Shape.of(6, 3, 5, 5), onDisk.get("conv1.weight").shape());
        assertEquals(Shape.of(120, 400), onDisk.get("fc1.weight").shape());
        assertEquals(10, onDisk.size());
    }

    /** Loading fails with a message containing the fragments, and leaves the model's weights untouched. */
    private void assertRejectedUnchanged(Map<String, HostTensor> state, String... fragments) {
        Net net = new Net(be, 3);
        Map<String, HostTensor> before = ModelFiles.stateDict(net, be);
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class,
                () -> ModelFiles.loadState(net, be, state, "weights.safetensors"));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "should mention \"" + f + "\": " + e.getMessage());
        assertSameWeights(before, ModelFiles.stateDict(net, be));
    }

    private Map<String, HostTensor> validState() {
        return new LinkedHashMap<>(ModelFiles.stateDict(new Net(be, 4), be));
    }

    @Test
    void rejectsMissingNames() {
        Map<String, HostTensor> state = validState();
        state.remove("fc3.bias");
        state.remove("conv1.weight");
        assertRejectedUnchanged(state, "weights.safetensors", "missing [conv1.weight, fc3.bias]", "unexpected []");
    }

    @Test
    void rejectsUnexpectedNames() {
        Map<String, HostTensor> state = validState();
        state.put("fc4.weight", new HostTensor(Shape.of(2), new float[2]));
        assertRejectedUnchanged(state, "missing []", "unexpected [fc4.weight]");
        Map<String, HostTensor> renamed = validState();
        renamed.put("module.fc1.weight", renamed.remove("fc1.weight"));
        assertRejectedUnchanged(renamed, "missing [fc1.weight]", "unexpected [module.fc1.weight]");
    }

    @Test
    void rejectsWrongShapes() {
        Map<String, HostTensor> state = validState();
        state.put("conv1.weight", new HostTensor(Shape.of(6, 3, 3, 3), new float[6 * 3 * 3 * 3]));
        assertRejectedUnchanged(state, "conv1.weight has shape [6, 3, 3, 3], the model needs [6, 3, 5, 5]");
        Map<String, HostTensor> transposed = validState();
        transposed.put("fc2.weight", new HostTensor(Shape.of(120, 84), new float[120 * 84]));
        assertRejectedUnchanged(transposed, "fc2.weight has shape [120, 84], the model needs [84, 120]");
    }

    @Test
    void rejectsNonFiniteWeights() {
        Map<String, HostTensor> state = validState();
        float[] values = state.get("fc2.bias").values().clone();
        values[5] = Float.NaN;
        state.put("fc2.bias", new HostTensor(Shape.of(84), values));
        assertRejectedUnchanged(state, "fc2.bias", "NaN");
    }

    @Test
    void rejectsAFileOfAnotherModel() throws IOException {
        Path file = dir.resolve("other.safetensors");
        Safetensors.write(file, Map.of("encoder.weight", new HostTensor(Shape.of(2, 2), new float[4])), null);
        Net net = new Net(be, 5);
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class, () -> ModelFiles.load(net, be, file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("unexpected [encoder.weight]"), e.getMessage());
    }
}
