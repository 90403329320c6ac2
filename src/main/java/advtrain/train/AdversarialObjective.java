package advtrain.train;

import advtrain.attack.Attack;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.nn.Module;
import advtrain.tensor.Tensor;

import java.util.Map;

/**
 * Adversarial training as an {@link Objective}: per batch,
 * <pre>
 *   x_adv = attack(θ, x, y)                              crafted with the CURRENT weights, on the attack's own tape
 *   L     = mix·L(θ, x, y) + (1 − mix)·L(θ, x_adv, y)     the seed's Eq. 3 (fgsm), Wong et al. (fgsm-rs), Madry et al. (pgd)
 * </pre>
 * The attack ({@link Attack}) runs on the batch already on the device and writes x_adv into a buffer
 * of its own; x_adv enters the step's tape as a constant, so no gradient flows through its
 * construction (the "stop gradient" of every adversarial training recipe), and the attack freezes
 * the parameters while it differentiates with respect to the input, so their gradients hold only
 * what this loss puts there. Nothing is copied to the host and, after the first batch of each
 * size, nothing is allocated: the attack keeps its buffers, the step's tape its pool.
 *
 * <p>Random starts (fgsm-rs, pgd) are seeded from (seed, epoch): {@link #startEpoch} makes a fresh
 * attack for each epoch, which is what lets a resumed run draw the same starts as an
 * uninterrupted one (its buffers are allocated once per epoch, never per step).
 */
public final class AdversarialObjective implements Objective {
    private final Backend backend;
    private final AdversarialTraining training;
    private final long seed;
    private Attack attack;
    private int attackEpoch = Integer.MIN_VALUE;
    private int retiredAllocations;
    private Tensor lastAdversarial;

    /** @param seed seeds the random starts (with the epoch) */
    public AdversarialObjective(Backend backend, AdversarialTraining training, long seed) {
        if (!training.adversarial()) throw new IllegalArgumentException("AdversarialObjective needs --adv fgsm, fgsm-rs or pgd");
        this.backend = backend;
        this.training = training;
        this.seed = seed;
    }

    /** The objective for these settings: the standard one for {@code none}. */
    public static Objective of(Backend backend, AdversarialTraining training, long seed) {
        return training.adversarial() ? new AdversarialObjective(backend, training, seed) : Objective.standard();
    }

    public AdversarialTraining training() { return training; }

    @Override public void startEpoch(int epoch) {
        if (attack != null && (!training.method().randomStart() || epoch == attackEpoch)) return;
        closeAttack();
        long epochSeed = seed * 0x9E3779B97F4A7C15L + (epoch + 1L) * 0xC2B2AE3D27D4EB4FL;
        attack = Attack.create(backend, training.attack(epochSeed));
        attackEpoch = epoch;
    }

    @Override public Step loss(Module model, Tape tape, Variable images, Variable labels) {
        if (training.mix() == 1f) {  // all weight on the clean loss: the attack would be wasted work
            Variable logProbs = model.forward(images);
            return new Step(Ops.nllLoss(logProbs, labels), logProbs);
        }
        if (attack == null) startEpoch(0);  // used outside a Trainer, as the tests do
        // The attack differentiates with respect to the input on its own tape, with the parameters
        // frozen; what comes back is a plain tensor, a constant here.
        Tensor adversarial = attack.perturb(model, images.data(), labels.data());
        lastAdversarial = adversarial;
        Variable adversarialLoss = Ops.nllLoss(model.forward(tape.constant(adversarial)), labels);
        if (training.mix() == 0f) {  // Madry: the adversarial loss alone; the clean pass only counts training accuracy
            Variable logProbs;
            try (Tape.NoGrad off = tape.noGrad()) {
                logProbs = model.forward(images);
            }
            return new Step(adversarialLoss, logProbs);
        }
        Variable cleanLogProbs = model.forward(images);
        Variable cleanLoss = Ops.nllLoss(cleanLogProbs, labels);
        Variable loss = Ops.add(Ops.scale(cleanLoss, training.mix()), Ops.scale(adversarialLoss, 1f - training.mix()));
        return new Step(loss, cleanLogProbs);
    }

    @Override public Map<String, Object> settings() { return training.settings(); }

    /** The last step's adversarial batch (the attack's buffer, valid until the next step), for tests. */
    Tensor lastAdversarial() { return lastAdversarial; }

    /** Tensors the attacks have allocated so far (this epoch's and the earlier ones'). */
    public int allocations() {
        return retiredAllocations + (attack == null ? 0 : attack.allocations());
    }

    private void closeAttack() {
        if (attack == null) return;
        retiredAllocations += attack.allocations();
        attack.close();
        attack = null;
        lastAdversarial = null;
    }

    @Override public void close() { closeAttack(); }

    @Override public String toString() { return training.describe(); }
}
