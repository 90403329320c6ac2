package advtrain.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RateMeterTest {

    /**
     * Work that starts slowly, as training with a cold JIT does: 10 s at rates rising from 1/20 of the
     * final rate to all of it, then the final rate. The meter says nothing while the rate climbs and,
     * once it speaks, the time left is within 30 % of the truth.
     */
    @Test
    void saysNothingWhileTheRateClimbsThenIsWithinThirtyPercent() {
        double finalRate = 1000, total = 40_000, step = 0.05;
        RateMeter meter = new RateMeter(1.0);
        double done = 0, t = 0;
        boolean spoke = false;
        while (done < total) {
            double rate = t < 10 ? finalRate * (0.05 + 0.95 * t / 10) : finalRate;
            double units = Math.min(rate * step, total - done);
            t += step;
            done += units;
            meter.record(t, units);
            double trueLeft = (total - done) / finalRate;
            if (t < 10) {
                assertTrue(meter.secondsLeft(total - done).isEmpty(), "no time left while the rate climbs, at t=" + t);
            } else if (meter.secondsLeft(total - done).isPresent()) {
                spoke = true;
                double told = meter.secondsLeft(total - done).getAsDouble();
                assertEquals(trueLeft, told, 0.3 * trueLeft + 1e-9, "time left at t=" + t);
            }
        }
        assertTrue(spoke, "the meter knew the rate once it was steady");
    }

    @Test
    void aPlateauOfSlowWorkIsAlsoSteadyButTheRateFollowsAJump() {
        RateMeter meter = new RateMeter(0.5);
        double t = 0;
        for (int i = 0; i < 40; i++) meter.record(t += 0.1, 10);     // 100 units/s for 4 s
        assertEquals(100, meter.rate().getAsDouble(), 1e-6);
        for (int i = 0; i < 10; i++) meter.record(t += 0.1, 1000);   // then 10,000 units/s: not steady yet
        assertTrue(meter.rate().isEmpty(), "a changing rate is not known");
        for (int i = 0; i < 20; i++) meter.record(t += 0.1, 1000);
        assertEquals(10_000, meter.rate().getAsDouble(), 1e-6);
    }
}
