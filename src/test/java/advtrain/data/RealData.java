package advtrain.data;

import org.junit.jupiter.api.Assertions;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real CIFAR-10 for tests. Most tests use {@link #sample()}, the first 512 training and 256 test
 * images committed under src/test/resources/cifar-10-sample, so a fresh clone runs them with no
 * download. The few that need all of it carry the tag {@value #FULL}: `mvn verify` leaves them out and
 * .ci/run runs them against the full data set (-Dadvtrain.data=DIR).
 */
public final class RealData {
    /** The JUnit tag of the tests that need the whole data set. */
    public static final String FULL = "full-data";

    private RealData() {}

    /** The committed sample folder: a --data folder for every command (see Cifar10's sample files). */
    public static Path sample() {
        URL url = RealData.class.getResource("/cifar-10-sample/" + Cifar10.SAMPLE_FILE);
        Assertions.assertNotNull(url, "the CIFAR-10 sample is not on the test class path (src/test/resources/cifar-10-sample)");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * All of CIFAR-10, for the tests tagged {@value #FULL}: -Dadvtrain.data=DIR, else where every command
     * looks ($ADVTRAIN_DATA, data/cifar-10-batches-bin/, ../shared/data/cifar-10/). Such a test FAILS
     * without it: it only runs when asked for.
     */
    public static Path full() {
        String property = System.getProperty("advtrain.data");
        Path explicit = property == null || property.isBlank() ? null : Path.of(property);
        Path dir = DataLocator.find(explicit);
        if (dir == null || Files.exists(dir.resolve(Cifar10.SAMPLE_FILE))) {
            Assertions.fail("a " + FULL + " test needs all of CIFAR-10 (looked in " + DataLocator.candidates(explicit)
                    + "); get it with ./advtrain download --data data, or pass -Dadvtrain.data=DIR");
        }
        return dir;
    }
}
