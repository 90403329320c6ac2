package advtrain.backend.select;

import advtrain.backend.select.SpeedProbe.How;
import advtrain.backend.select.StepTimer.Timing;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How --backend auto decides between Java and a CPU OpenCL device from two timings: a warm Java
 * figure is compared as it is; a cold one is an upper bound, enough to choose Java when it is faster
 * already, and otherwise no answer (Java by default, and never OpenCL).
 */
class SpeedProbeHowTest {
    private static final Path FILE = Path.of("cache");

    @Test
    void aWarmJavaFigureIsComparedAsItIs() {
        assertEquals(How.WARM, How.of(new Timing(12, true), new Timing(9, true)));
        assertTrue(new SpeedProbe.Result(12, 9, How.WARM, false, FILE).openclFaster());
        assertFalse(new SpeedProbe.Result(8, 9, How.WARM, false, FILE).openclFaster());
    }

    @Test
    void aColdJavaFigureDecidesOnlyForJava() {
        assertEquals(How.JAVA_FASTER_COLD, How.of(new Timing(8, false), new Timing(9, true)));
        assertEquals(How.UNDECIDED, How.of(new Timing(19.5, false), new Timing(9.3, true)));
        assertFalse(new SpeedProbe.Result(19.5, 9.3, How.UNDECIDED, false, FILE).openclFaster(), "undecided: java by default");
        assertFalse(new SpeedProbe.Result(8, 9, How.JAVA_FASTER_COLD, false, FILE).openclFaster());
    }
}
