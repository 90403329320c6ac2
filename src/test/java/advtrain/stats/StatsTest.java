package advtrain.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Wilson intervals and exact McNemar p-values against values computed by hand. */
class StatsTest {

    @Test
    void wilsonMatchesTheClosedForm() {
        // z = 1.959964, z^2 = 3.841459: 0/10 -> [0, z^2/(10+z^2)]; 10/10 -> [10/(10+z^2), 1]
        assertEquals(1.959963984540054, Stats.Z95, 1e-12);
        Stats.Interval none = Stats.wilson(0, 10), half = Stats.wilson(5, 10), all = Stats.wilson(10, 10);
        assertEquals(0.0, none.low(), 1e-12);
        assertEquals(0.277533, none.high(), 1e-6);
        assertEquals(0.236593, half.low(), 1e-6);
        assertEquals(0.763407, half.high(), 1e-6);
        assertEquals(0.722467, all.low(), 1e-6);
        assertEquals(1.0, all.high(), 1e-12);
        // 44 of 1000: centre (44 + 1.92)/1003.84, half-width 1.96/1003.84 * sqrt(42.064 + 0.9604)
        Stats.Interval pgd = Stats.wilson(44, 1000);
        assertEquals(0.032938, pgd.low(), 1e-6);
        assertEquals(0.058552, pgd.high(), 1e-6);
        // none right (or all) gives an end of exactly 0 (or 1), not a rounding error beside it
        for (int n : new int[] {1, 7, 90, 103, 1000, 10_000}) {
            assertEquals(0.0, Stats.wilson(0, n).low(), 0.0, "0 of " + n);
            assertEquals(1.0, Stats.wilson(n, n).high(), 0.0, n + " of " + n);
        }
        assertTrue(Double.isNaN(Stats.wilson(0, 0).low()));
        assertThrows(IllegalArgumentException.class, () -> Stats.wilson(11, 10));
    }

    @Test
    void mcNemarIsTwiceTheBinomialTail() {
        assertEquals(1.0, Stats.mcNemar(0, 0));
        assertEquals(1.0, Stats.mcNemar(3, 3));              // 2 * 42/64 > 1: capped
        assertEquals(2.0 / 32, Stats.mcNemar(0, 5), 1e-15);   // 2 * (1/2)^5
        assertEquals(22.0 / 1024, Stats.mcNemar(1, 9), 1e-15);   // 2 * (1 + 10)/2^10
        assertEquals(212.0 / 16384, Stats.mcNemar(12, 2), 1e-15); // 2 * (1 + 14 + 91)/2^14
        // far tails keep their precision: 2 * 2^-100
        assertEquals(2 * Math.pow(2, -100), Stats.mcNemar(0, 100), 1e-12 * Math.pow(2, -100));
        assertEquals(Stats.mcNemar(4, 17), Stats.mcNemar(17, 4));
    }

    @Test
    void pairedCountsTheDiscordantImages() {
        boolean[] a = {true, true, false, false, true};
        boolean[] b = {true, false, true, false, false};
        Stats.Paired p = Stats.paired(a, b);
        assertEquals(2, p.onlyA());
        assertEquals(1, p.onlyB());
        assertEquals(1.0, p.p());
        assertEquals("p < 10^-10", Stats.formatP(1e-12));
        assertEquals("p = 0.0215", Stats.formatP(22.0 / 1024));
    }
}
