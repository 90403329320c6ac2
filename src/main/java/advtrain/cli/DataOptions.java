package advtrain.cli;

import picocli.CommandLine.Option;

/** Where CIFAR-10 is and how much of it to use: the options of the commands that train (train, reproduce, demo). */
public final class DataOptions extends TestDataOptions {
    @Option(names = "--limit-train", paramLabel = "N", description = "use only the first N training images (default: all 50,000)")
    public Integer limitTrain;
}
