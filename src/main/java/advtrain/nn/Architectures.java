package advtrain.nn;

import advtrain.backend.Backend;
import advtrain.io.InvalidOptionException;
import advtrain.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Networks as data: the built-in networks by name, and how a model file says which one it holds.
 * A file's safetensors metadata carries {@code "arch": NAME}; a file without it holds the seed's
 * {@link Net} ("lenet"), as every file did before there were other networks. Every built-in
 * network takes [N, 3, 32, 32] images in [0, 1], normalises them itself and returns
 * log-probabilities over {@link Net#CLASSES} classes, so a name is all it takes to rebuild one.
 */
public final class Architectures {
    /** The metadata key naming the network. */
    public static final String METADATA_KEY = "arch";
    public static final String LENET = "lenet", RESNET20 = "resnet20", PREACT_RESNET18 = "preact-resnet18";

    /** Builds a network on a backend, its weights initialised from the seed. */
    @FunctionalInterface
    public interface Builder {
        Module build(Backend backend, long seed);
    }

    private record Entry(Class<? extends Module> type, Builder builder, String description) {}

    private static final Map<String, Entry> BUILT_IN = new LinkedHashMap<>();

    static {
        BUILT_IN.put(LENET, new Entry(Net.class, Net::new, "the seed's network (62,006 parameters)"));
        BUILT_IN.put(RESNET20, new Entry(ResNet20.class, ResNet20::new, "He et al.'s CIFAR ResNet-20 (269,722 parameters)"));
        BUILT_IN.put(PREACT_RESNET18, new Entry(PreActResNet18.class, PreActResNet18::new,
                "Wong et al.'s PreAct ResNet-18 (11,172,170 parameters)"));
    }

    private Architectures() {}

    /** The names, the default ("lenet") first. */
    public static List<String> names() { return List.copyOf(BUILT_IN.keySet()); }

    /** One line per network: its name and what it is. */
    public static String describe() {
        StringBuilder s = new StringBuilder();
        BUILT_IN.forEach((name, e) -> s.append(s.length() == 0 ? "" : "; ").append(name).append(": ").append(e.description()));
        return s.toString();
    }

    /** The network of this name, freshly initialised; an unknown name is a usage error naming the known ones. */
    public static Module build(String name, Backend backend, long seed) {
        return entry(name).builder().build(backend, seed);
    }

    /** Checks a name given as an option; returns it. */
    public static String require(String name, String option) {
        if (!BUILT_IN.containsKey(name)) {
            throw new InvalidOptionException(option + ": unknown network '" + name + "'; choose one of " + String.join(", ", names()));
        }
        return name;
    }

    private static Entry entry(String name) {
        Entry e = BUILT_IN.get(require(name, "network"));
        return e;
    }

    /** The registry name of a model built here, or null for a module it does not know. */
    public static String nameOf(Module model) {
        for (Map.Entry<String, Entry> e : BUILT_IN.entrySet()) {
            if (e.getValue().type() == model.getClass()) return e.getKey();
        }
        return null;
    }

    /** The network a model file's metadata names: its "arch", or "lenet" when it names none. */
    public static String named(Map<String, String> metadata, Path file) throws Safetensors.InvalidFileException {
        String name = metadata.getOrDefault(METADATA_KEY, LENET);
        if (!BUILT_IN.containsKey(name)) {
            throw new Safetensors.InvalidFileException(file + " holds a network named '" + name
                    + "' in its metadata, which advtrain does not know (it knows " + String.join(", ", names()) + ")");
        }
        return name;
    }

    /** The network a model file names (see {@link #named}), without loading its weights. */
    public static String nameInFile(Path file) throws IOException {
        return named(Safetensors.read(file).metadata(), file);
    }

    /**
     * The network a model file names, built on the backend with the file's weights and buffers
     * (strictly: every name, shape and dtype must match).
     */
    public static Module load(Backend backend, Path file) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        Module model = build(named(contents.metadata(), file), backend, 0);
        ModelFiles.loadState(model, backend, contents.tensors(), file.toString());
        return model;
    }
}
