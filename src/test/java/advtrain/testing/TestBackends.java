package advtrain.testing;

import advtrain.backend.Backend;
import advtrain.backend.UnavailableException;
import advtrain.backend.select.Backends;
import org.junit.jupiter.api.Assumptions;

import java.util.HashMap;
import java.util.Map;

/**
 * The backends every engine test runs on. Tests are parameterized by name,
 * {@code @ValueSource(strings = {"reference", "java", "opencl"})}, and call {@link #get}: a backend that cannot
 * run here (no OpenCL runtime or device) makes the test SKIPPED with the reason, never silently
 * passed. Backends are made once per test JVM (an OpenCL context and its programs are costly);
 * $ADVTRAIN_DEVICE picks the OpenCL device on machines with several.
 */
public final class TestBackends {
    private static final Map<String, Backend> made = new HashMap<>();
    private static final Map<String, String> unavailable = new HashMap<>();

    private TestBackends() {}

    /** The OpenCL device the tests use: $ADVTRAIN_DEVICE as `advtrain devices` numbers them, else the default. */
    private static Integer device() {
        String d = System.getenv("ADVTRAIN_DEVICE");
        return d == null || d.isBlank() ? null : Integer.valueOf(d.trim());
    }

    public static synchronized Backend get(String name) {
        Assumptions.assumeFalse(unavailable.containsKey(name), () -> name + " backend unavailable: " + unavailable.get(name));
        Backend backend = made.get(name);
        if (backend == null) {
            try {
                backend = Backends.select(name, device()).backend();
            } catch (UnavailableException e) {
                unavailable.put(name, e.getMessage());
                Assumptions.abort(name + " backend unavailable: " + e.getMessage());
            }
            made.put(name, backend);
        }
        return backend;
    }
}
