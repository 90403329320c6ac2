package advtrain.cli;

import advtrain.data.Cifar10;
import advtrain.data.DataLocator;
import advtrain.data.Dataset;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where CIFAR-10 is and how many test images to use: the options of the commands that read only the
 * test images (eval, attack, sweep). {@link DataOptions} adds --limit-train for those that train.
 */
public class TestDataOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "CIFAR-10 binary folder (data_batch_1..5.bin, test_batch.bin, or .bin.gz). Default: $ADVTRAIN_DATA, "
                    + "data/cifar-10-batches-bin/, ../shared/data/cifar-10/")
    public Path data;

    @Option(names = "--limit-test", paramLabel = "N", description = "use only the first N test images (default: all 10,000)")
    public Integer limitTest;

    /** The data folder, or a DataNotFoundException that says where we looked and how to get it. */
    public Path folder() throws IOException {
        return DataLocator.require(data);
    }

    public Dataset testSet() throws IOException {
        return Cifar10.test(folder(), limit("--limit-test", limitTest, Cifar10.TEST_SIZE));
    }

    static int limit(String option, Integer value, int all) {
        if (value == null) return all;
        if (value < 1) throw new Main.UsageError(option + " must be >= 1, got " + value);
        return value;
    }
}
