package advtrain.cli;

import advtrain.backend.select.Backends;
import advtrain.train.TrainConfig;
import advtrain.train.WarmUp;
import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME",
            description = "auto, java, opencl or reference (default: ${DEFAULT-VALUE}). auto picks an OpenCL GPU, else the faster of "
                    + "OpenCL-CPU and Java. reference is the plain, single-threaded definition every other backend is tested "
                    + "against: slow (many times slower than java), for reading and checking; auto takes it only in a JVM without "
                    + "the Vector API (--add-modules jdk.incubator.vector) and without OpenCL, and warns.")
    public String backend;

    @Option(names = "--device", paramLabel = "N",
            description = "OpenCL device index, as `advtrain devices` lists them (default: $ADVTRAIN_DEVICE, else the first GPU)")
    public Integer device;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "seed for initialisation, shuffling and random starts (default: ${DEFAULT-VALUE})")
    public long seed;

    @Option(names = "--json", description = "print one JSON object as the last line of stdout")
    public boolean json;

    @Option(names = "--debug", description = "show stack traces on errors")
    public boolean debug;

    /** Creates the backend chosen by --backend/--device and says which one on stderr, once. */
    public Backends.Choice selectBackend() {
        if (!Backends.NAMES.contains(backend)) {
            throw new Main.UsageError("unknown backend '" + backend + "': use one of " + String.join(", ", Backends.NAMES));
        }
        Integer index = device;
        if (index == null && System.getenv("ADVTRAIN_DEVICE") != null) {
            try {
                index = Integer.parseInt(System.getenv("ADVTRAIN_DEVICE").trim());
            } catch (NumberFormatException e) {
                throw new Main.UsageError("ADVTRAIN_DEVICE must be a device index, got '" + System.getenv("ADVTRAIN_DEVICE") + "'");
            }
        }
        Backends.Choice choice;
        try {
            choice = Backends.select(backend, index, WarmUp.stepTimer(TrainConfig.BATCH));
        } catch (IllegalArgumentException e) {  // --device N that is not there
            throw new Main.UsageError(e.getMessage());
        }
        if (!choice.warned()) System.err.println("backend: " + choice.reason());  // a warning said it already
        return choice;
    }
}
