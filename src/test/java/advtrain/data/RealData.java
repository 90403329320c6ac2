package advtrain.data;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Path;

/**
 * The real CIFAR-10 for tests, found as every command finds it (here: ../shared/data/cifar-10
 * beside the checkout). Where it is absent the tests that need it are SKIPPED with the reason.
 */
public final class RealData {
    private RealData() {}

    public static Path dir() {
        Path dir = DataLocator.find(null);
        Assumptions.assumeTrue(dir != null, "CIFAR-10 not found (looked in " + DataLocator.candidates(null)
                + "); get it with ./advtrain download --data data");
        return dir;
    }
}
