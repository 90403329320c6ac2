package advtrain.train;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Safetensors;
import advtrain.nn.ModelFiles;
import advtrain.nn.Module;
import advtrain.optim.Sgd;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training state that resuming needs, in one safetensors file written atomically: the SGD
 * momentum buffers ("momentum_buffer.conv1.weight", ... as PyTorch names optimizer state), a copy
 * of the weights ("param.conv1.weight", ...), and the number of completed epochs in the metadata.
 * Keeping the weights here too means the state is never half from one epoch and half from another,
 * whatever moment a run was stopped at; model.safetensors stays a plain state_dict for PyTorch.
 */
public final class Checkpoint {
    static final String FORMAT = "advtrain-training-state-1";
    static final String PARAM = "param.", MOMENTUM = "momentum_buffer.";

    private Checkpoint() {}

    /** The metadata key of the epoch's metrics.csv row, kept with the state it belongs to. */
    static final String METRICS_ROW = "metrics_row";

    public static void save(Path file, Module model, Sgd sgd, Backend backend, int epochsCompleted) throws IOException {
        save(file, model, sgd, backend, epochsCompleted, Map.of());
    }

    /** As above, with more metadata strings to keep beside the state. */
    public static void save(Path file, Module model, Sgd sgd, Backend backend, int epochsCompleted, Map<String, String> extra)
            throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        Map<String, Variable> params = model.namedParameters();
        List<Tensor> velocities = sgd.velocities();
        int i = 0;
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            tensors.put(MOMENTUM + e.getKey(), new HostTensor(e.getValue().shape(), Tensors.toArray(backend, velocities.get(i++))));
        }
        ModelFiles.stateDict(model, backend).forEach((name, t) -> tensors.put(PARAM + name, t));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", FORMAT);
        metadata.put("epochs_completed", Integer.toString(epochsCompleted));
        metadata.put("lr", Float.toString(sgd.lr()));
        metadata.put("momentum", Float.toString(sgd.momentum()));
        metadata.putAll(extra);
        Safetensors.write(file, tensors, metadata);
    }

    /** Loads weights and momentum buffers; returns the number of completed epochs. */
    public static int load(Path file, Module model, Sgd sgd, Backend backend) throws IOException {
        return load(file, model, sgd, backend, new LinkedHashMap<>());
    }

    /** As above, and copies the file's metadata into {@code metadata}. */
    public static int load(Path file, Module model, Sgd sgd, Backend backend, Map<String, String> metadata) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        if (!FORMAT.equals(contents.metadata().get("format"))) {
            throw new Safetensors.InvalidFileException(file + " is not an advtrain training state (no format " + FORMAT + " in its metadata)");
        }
        int epochs;
        try {
            epochs = Integer.parseInt(contents.metadata().getOrDefault("epochs_completed", ""));
        } catch (NumberFormatException e) {
            throw new Safetensors.InvalidFileException(file + ": metadata epochs_completed is not a number");
        }
        if (epochs < 0) throw new Safetensors.InvalidFileException(file + ": metadata epochs_completed is negative");
        Map<String, HostTensor> weights = new LinkedHashMap<>(), momentum = new LinkedHashMap<>();
        contents.tensors().forEach((name, t) -> {
            if (name.startsWith(PARAM)) weights.put(name.substring(PARAM.length()), t);
            else if (name.startsWith(MOMENTUM)) momentum.put(name.substring(MOMENTUM.length()), t);
            else weights.put(name, t);  // an unexpected name: loadState reports it
        });
        // Everything is checked (names, shapes, finite values) before anything is written to the backend.
        Map<String, Variable> params = model.namedParameters();
        if (!momentum.keySet().equals(params.keySet())) {
            throw new Safetensors.InvalidFileException(file + ": momentum buffers for " + momentum.keySet()
                    + ", the model has parameters " + params.keySet());
        }
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            HostTensor t = momentum.get(e.getKey());
            if (!t.shape().equals(e.getValue().shape())) {
                throw new Safetensors.InvalidFileException(file + ": momentum buffer of " + e.getKey() + " has shape "
                        + t.shape() + ", expected " + e.getValue().shape());
            }
            for (float v : t.values()) {
                if (!Float.isFinite(v)) throw new Safetensors.InvalidFileException(file + ": momentum buffer of " + e.getKey() + " holds NaN or infinite values");
            }
        }
        ModelFiles.loadState(model, backend, weights, file + " (weights)");  // checks all, then writes
        List<Tensor> velocities = sgd.velocities();
        int i = 0;
        for (String name : params.keySet()) backend.write(velocities.get(i++), momentum.get(name).values(), 0);
        metadata.putAll(contents.metadata());
        return epochs;
    }
}
