package advtrain.attack;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Settings are checked once, when an attack is configured; the counts follow AttackResult's definitions. */
class AttackConfigTest {

    @Test
    void invalidSettingsAreRefusedWithTheirName() {
        for (float eps : new float[] {-0.01f, Float.NaN, Float.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttackConfig.pgd(eps));
            assertTrue(e.getMessage().startsWith("eps"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttackConfig.pgd(0.03f).withSteps(0)).getMessage().startsWith("steps"));
        for (float alpha : new float[] {0f, -0.1f, Float.POSITIVE_INFINITY}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> AttackConfig.pgd(0.03f).withStepSize(alpha))
                    .getMessage().startsWith("step size"));
        }
        assertThrows(IllegalArgumentException.class, () -> AttackConfig.pgd(0.03f).withRestarts(0));
        assertThrows(IllegalArgumentException.class, () -> AttackConfig.pgd(0.03f).targeting(-2));
        assertThrows(IllegalArgumentException.class, () -> Norm.parse("l1"));
        assertThrows(IllegalArgumentException.class, () -> AttackConfig.Kind.parse("cw"));
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        AttackConfig pgd = AttackConfig.pgd(0.03f);
        assertEquals(10, pgd.steps());
        assertEquals(0.03f / 4, pgd.alpha());
        assertFalse(pgd.randomStart());
        assertEquals(1, pgd.restarts());
        assertEquals(Norm.LINF, pgd.norm());
        assertEquals(0.05f / 4, pgd.withEps(0.05f).alpha(), "the default step size follows eps");
        assertEquals(0.01f, pgd.withStepSize(0.01f).withEps(0.05f).alpha(), "an explicit step size stays");
        assertTrue(pgd.withRestarts(3).randomStart(), "restarts from one point would all be equal");

        AttackConfig fgsm = AttackConfig.fgsm(0.03f).withSteps(7).withRandomStart(true).withRestarts(4);
        assertEquals(1, fgsm.steps(), "FGSM is one step");
        assertEquals(0.03f, fgsm.alpha(), "of size eps");
        assertFalse(fgsm.randomStart());
        assertEquals(1, fgsm.restarts());
        AttackConfig asFgsm = pgd.withNorm(Norm.L2).targeting(4).asFgsm();
        assertEquals(AttackConfig.Kind.FGSM, asFgsm.kind());
        assertEquals(Norm.L2, asFgsm.norm());
        assertEquals(4, asFgsm.targetClass());
    }

    @Test
    void theNecessaryConditionIsAWarning() {
        assertTrue(AttackConfig.pgd(0.03f).warnings().isEmpty(), "10 x eps/4 >= eps");
        assertTrue(AttackConfig.fgsm(0.03f).warnings().isEmpty());
        assertTrue(AttackConfig.pgd(0f).warnings().isEmpty());
        assertTrue(AttackConfig.pgd(0.03f).withSteps(4).warnings().isEmpty(), "4 x eps/4 = eps exactly");
        List<String> w = AttackConfig.pgd(0.03f).withSteps(3).warnings();
        assertEquals(1, w.size());
        assertTrue(w.get(0).contains("necessary condition"), w.get(0));
        assertEquals(1, AttackConfig.pgd(0.1f).withStepSize(0.001f).warnings().size());
    }

    @Test
    void countsFollowAttackResultsDefinitions() {
        // 6 images: labels, clean predictions and predictions under attack.
        int[] labels = {0, 0, 1, 1, 2, 2};
        RobustnessEvaluator.Predictions clean = new RobustnessEvaluator.Predictions(labels, new int[] {0, 0, 1, 2, 2, 0}, new float[] {1, 1, 1, 1, 1, 1});
        RobustnessEvaluator.Predictions adv = new RobustnessEvaluator.Predictions(labels, new int[] {0, 1, 2, 1, 2, 0}, new float[] {2, 2, 2, 2, 2, 2});
        AttackResult r = AttackResult.count(AttackConfig.pgd(0.03f), clean, adv, null, 3, Attack.GradientStats.NONE, 2.0);
        assertEquals(4, r.cleanCorrect());                   // images 0, 1, 2, 4
        assertEquals(3, r.robustCorrect());                  // 0, 3 (fixed by the attack: still counts as right), 4
        assertEquals(0.5, r.robustAccuracy());               // over all images
        assertEquals(4, r.successBase());
        assertEquals(2, r.successes());                      // 1 and 2 were right and are now wrong
        assertEquals(0.5, r.successRate());
        assertArrayEquals(new int[] {2, 2, 2}, r.perClassTotal());
        assertArrayEquals(new int[] {1, 1, 1}, r.perClassRobust());
        assertEquals(3.0, r.imagesPerSecond());
        assertEquals(2.0, r.robustLoss());

        // Targeted at class 2: image 4 is of the target class and does not count; success = now the target.
        int[] targets = {2, 2, 2, 2, 2, 2};
        AttackResult t = AttackResult.count(AttackConfig.pgd(0.03f).targeting(2), clean, adv, targets, 3, Attack.GradientStats.NONE, 1.0);
        assertEquals(3, t.successBase());                    // 0, 1, 2
        assertEquals(1, t.successes());                      // image 2 is now class 2
        assertEquals("least_likely", AttackResult.count(AttackConfig.pgd(0.03f).targeting(AttackConfig.LEAST_LIKELY), clean, adv,
                targets, 3, Attack.GradientStats.NONE, 1.0).toJson().get("target"));
    }

    @Test
    void gradientMaskingWarnings() {
        assertTrue(AttackResult.maskingWarnings(new Attack.GradientStats(100, 10, 0)).isEmpty(), "10 % is not many");
        assertEquals(1, AttackResult.maskingWarnings(new Attack.GradientStats(100, 11, 0)).size());
        assertEquals(1, AttackResult.maskingWarnings(new Attack.GradientStats(100, 0, 1)).size(), "any NaN is suspect");
        assertEquals(2, AttackResult.maskingWarnings(new Attack.GradientStats(100, 50, 3)).size());
    }
}
