package advtrain.optim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The schedules' shapes and edges (GoldenOptimTest compares every step with the Python formulas). */
class LrScheduleTest {

    @Test
    void constantIsThePeakItselfAtEveryStep() {
        LrSchedule constant = new LrSchedule(LrSchedule.Kind.CONSTANT, 0.001f, 3);
        for (int epoch = 0; epoch < 3; epoch++) {
            for (int batch = 0; batch < 7; batch++) assertEquals(Float.floatToIntBits(0.001f), Float.floatToIntBits(constant.lr(epoch, batch, 7)));
        }
    }

    @Test
    void onecyclePeaksAtTwoFifthsOfTheEpochsRoundedDown() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.ONECYCLE, 0.2f, 15);
        double peak = 0.2f;
        assertEquals(0, s.at(0));
        assertEquals(peak / 2, s.at(3), 1e-15);
        assertEquals(peak, s.at(6), 0, "epochs * 2 // 5 = 6");
        assertEquals(peak / 3, s.at(12), 1e-15);
        assertEquals(0, s.at(15));
        assertEquals(0, s.at(16), "after the last epoch");
        assertEquals(0f, s.lr(14, 9, 10), "the last step's rate");
        assertEquals((float) (peak / 60), s.lr(0, 0, 10), 1e-9f, "the first step is taken at t = 1/10");
        // 7 epochs: the peak at 7 * 2 // 5 = 2, not at 2.8
        assertEquals(0.2f, new LrSchedule(LrSchedule.Kind.ONECYCLE, 0.2f, 7).lr(1, 9, 10));
        // 1 or 2 epochs: the peak is at 0 (numpy's interp with a repeated point), so the rate only falls
        LrSchedule one = new LrSchedule(LrSchedule.Kind.ONECYCLE, 0.2f, 1);
        assertEquals(peak, one.at(0));
        assertEquals(peak / 2, one.at(0.5), 1e-15);
    }

    @Test
    void cosineFallsFromThePeakToZero() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, 0.1f, 10);
        assertEquals(0.1f, (float) s.at(0));
        assertEquals(0.05f, (float) s.at(5), 1e-9);
        assertEquals(0, s.at(10), 1e-18);
        assertTrue(s.lr(0, 0, 100) < 0.1f && s.lr(0, 0, 100) > 0.0999f);
    }

    @Test
    void interpIsNumpys() {
        double[] xs = {0, 0, 1}, ys = {0, 0.2, 0};
        assertEquals(0.2, LrSchedule.interp(0, xs, ys), "x on a repeated point: the last one's value, as numpy");
        assertEquals(0.1, LrSchedule.interp(0.5, xs, ys), 1e-17);
        assertEquals(0, LrSchedule.interp(-1, xs, ys));
        assertEquals(0, LrSchedule.interp(2, xs, ys));
    }

    @Test
    void unknownNamesGetTheNamesAndAGuess() {
        assertEquals(LrSchedule.Kind.ONECYCLE, LrSchedule.Kind.parse(" OneCycle "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.parse("onecylce"));
        assertEquals("unknown learning-rate schedule 'onecylce': use constant, onecycle or cosine; did you mean onecycle?", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.parse("cosin"));
        assertTrue(e.getMessage().endsWith("did you mean cosine?"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.parse("step"));
        assertFalse(e.getMessage().contains("did you mean"), e.getMessage());
        assertNull(LrSchedule.closest("linear", List.of("constant", "onecycle", "cosine")));
    }

    @Test
    void badSchedulesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(LrSchedule.Kind.COSINE, 0f, 3));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(LrSchedule.Kind.COSINE, 0.1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(null, 0.1f, 3));
    }
}
