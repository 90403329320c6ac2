package advtrain.nn;

import advtrain.autograd.Variable;
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

/** A model's parameters to and from safetensors, under their PyTorch state_dict names. */
public final class ModelFiles {
    private ModelFiles() {}

    /** The model's parameters copied to the host, in state_dict order. */
    public static Map<String, HostTensor> stateDict(Module model, Backend backend) {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> state.put(name, new HostTensor(p.shape(), Tensors.toArray(backend, p.data()))));
        return state;
    }

    public static void save(Module model, Backend backend, Path file, Map<String, String> metadata) throws IOException {
        Safetensors.write(file, stateDict(model, backend), metadata);
    }

    /** Loads weights into the model; names and shapes must match the model's state_dict exactly. */
    public static Map<String, String> load(Module model, Backend backend, Path file) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        loadState(model, backend, contents.tensors(), file.toString());
        return contents.metadata();
    }

    public static void loadState(Module model, Backend backend, Map<String, HostTensor> state, String source)
            throws IOException {
        Map<String, Variable> params = model.namedParameters();
        Set<String> missing = new TreeSet<>(params.keySet());
        missing.removeAll(state.keySet());
        Set<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(params.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new Safetensors.InvalidFileException(source + " does not hold this model's weights: missing "
                    + missing + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            HostTensor t = state.get(e.getKey());
            if (!t.shape().equals(e.getValue().shape())) {
                throw new Safetensors.InvalidFileException(source + ": " + e.getKey() + " has shape " + t.shape()
                        + ", the model needs " + e.getValue().shape());
            }
            for (float v : t.values()) {
                if (!Float.isFinite(v)) throw new Safetensors.InvalidFileException(source + ": " + e.getKey() + " holds NaN or infinite values");
            }
        }
        for (Map.Entry<String, Variable> e : params.entrySet()) backend.write(e.getValue().data(), state.get(e.getKey()).values(), 0);
    }
}
