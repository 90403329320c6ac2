package advtrain.nn;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model's state_dict (its parameters and buffers, under their PyTorch names and in PyTorch's
 * order) to and from safetensors. A saved file names its network in the metadata
 * ({@link Architectures#METADATA_KEY}), so that {@link Architectures#load} can rebuild it.
 */
public final class ModelFiles {
    private ModelFiles() {}

    /** The model's parameters and buffers copied to the host, in state_dict order. */
    public static Map<String, HostTensor> stateDict(Module model, Backend backend) {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        model.stateEntries().forEach((name, e) -> {
            if (e.parameter() != null) state.put(name, new HostTensor(e.shape(), Tensors.toArray(backend, e.parameter().data())));
            else if (e.buffer().isCounter()) state.put(name, HostTensor.ofLongs(e.shape(), new long[] {e.buffer().count()}));
            else state.put(name, new HostTensor(e.shape(), Tensors.toArray(backend, e.buffer().tensor())));
        });
        return state;
    }

    /** Writes the state_dict with this metadata, plus the network's name when the registry knows it. */
    public static void save(Module model, Backend backend, Path file, Map<String, String> metadata) throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        if (metadata != null) all.putAll(metadata);
        String arch = Architectures.nameOf(model);
        if (arch != null) all.put(Architectures.METADATA_KEY, arch);
        Safetensors.write(file, stateDict(model, backend), all);
    }

    /** Loads weights into the model; names, shapes and dtypes must match the model's state_dict exactly. */
    public static Map<String, String> load(Module model, Backend backend, Path file) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        loadState(model, backend, contents.tensors(), file.toString());
        return contents.metadata();
    }

    /**
     * Copies a state_dict into the model, strictly as PyTorch's {@code load_state_dict(strict=True)}:
     * every name the model has and no other, each with the model's shape and dtype (F32, or I64 for
     * a counter such as num_batches_tracked) and finite values. Everything is checked before
     * anything is written.
     */
    public static void loadState(Module model, Backend backend, Map<String, HostTensor> state, String source)
            throws IOException {
        Map<String, Module.StateEntry> entries = model.stateEntries();
        Set<String> missing = new TreeSet<>(entries.keySet());
        missing.removeAll(state.keySet());
        Set<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(entries.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new Safetensors.InvalidFileException(source + " does not hold this model's weights: missing "
                    + missing + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, Module.StateEntry> e : entries.entrySet()) {
            HostTensor t = state.get(e.getKey());
            Module.StateEntry want = e.getValue();
            if (!t.shape().equals(want.shape())) {
                throw new Safetensors.InvalidFileException(source + ": " + e.getKey() + " has shape " + t.shape()
                        + ", the model needs " + want.shape());
            }
            if (!t.dtype().equals(want.dtype())) {
                throw new Safetensors.InvalidFileException(source + ": " + e.getKey() + " has dtype " + t.dtype()
                        + ", the model needs " + want.dtype());
            }
            if (t.isLong()) continue;
            for (float v : t.values()) {
                if (!Float.isFinite(v)) throw new Safetensors.InvalidFileException(source + ": " + e.getKey() + " holds NaN or infinite values");
            }
        }
        for (Map.Entry<String, Module.StateEntry> e : entries.entrySet()) {
            HostTensor t = state.get(e.getKey());
            Module.StateEntry entry = e.getValue();
            if (entry.parameter() != null) backend.write(entry.parameter().data(), t.values(), 0);
            else if (entry.buffer().isCounter()) entry.buffer().setCount(t.longValues()[0]);
            else backend.write(entry.buffer().tensor(), t.values(), 0);
        }
    }
}
