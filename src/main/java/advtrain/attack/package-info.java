/**
 * Evasion attacks on the engine: FGSM (the seed's Eq. 1) and PGD (Eq. 2), in L∞ and L2, untargeted or
 * targeted, with random starts and restarts, and the counting of robust accuracy over a test set.
 *
 * <p>Read in this order: {@link advtrain.attack.Attack} (the interface: perturb(model, x, y) → x_adv),
 * {@link advtrain.attack.AttackConfig} (what an attack does), {@link advtrain.attack.GradientAttack}
 * (Foolbox's template: random start → clip → repeat {gradient → normalize → step → project → clip}),
 * {@link advtrain.attack.Norm} (what the threat model supplies to the template),
 * {@link advtrain.attack.FrozenEval} (eval mode and frozen parameters for the duration of an attack),
 * then {@link advtrain.attack.RobustnessEvaluator} and {@link advtrain.attack.AttackResult} (robust accuracy,
 * success rate, per class, and the sanity checks: gradient masking, PGD weaker than FGSM, the
 * necessary condition α·steps ≥ ε).
 *
 * <p>Everything is in [0, 1] pixel space: the model normalises its input in its first layer, so ε is
 * in pixel units and adversarial images are clipped to [0, 1].
 */
package advtrain.attack;
