package advtrain.train;

import advtrain.attack.Attack;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.HashMap;
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
 * <p>The seed's own case, FGSM with 0 < mix < 1, takes a shortcut that changes the arithmetic's
 * last bits, not the mathematics: FGSM's direction sign(∇x L(θ, x, y)) is the input gradient of
 * the clean term itself, so the clean forward and backward passes run once, on a tape of this objective's own, and give both the clean term's
 * parameter gradient and the attack (see {@link #fgsmSharingTheCleanPass}). That saves a forward
 * pass and a backward pass per step, about a quarter of the step.
 *
 * <p>Random starts (fgsm-rs, pgd) are seeded from (seed, epoch): {@link #startEpoch} reseeds the
 * attack for each epoch (Attack.reseed: the draws of a fresh attack, its buffers kept), which is
 * what lets a resumed run draw the same starts as an uninterrupted one.
 */
public final class AdversarialObjective implements Objective {
    private final Backend backend;
    private final AdversarialTraining training;
    private final long seed;
    private Attack attack;
    private int attackEpoch = Integer.MIN_VALUE;
    private int retiredAllocations;
    private Tensor lastAdversarial;
    private final Tape cleanTape;                  // the shared clean pass of fgsmSharingTheCleanPass
    private final Tensor mixSeed;                  // [1] = mix: the clean pass's backward starts from it
    private final Map<Shape, Tensor> adversarialBatches = new HashMap<>();
    private final Step step = new Step(null, null);  // refilled and returned by every call of loss
    private final Ops.Affine cleanShare, adversarialShare;  // mix·L_clean and (1 − mix)·L_adv, made once

    /** @param seed seeds the random starts (with the epoch) */
    public AdversarialObjective(Backend backend, AdversarialTraining training, long seed) {
        if (!training.adversarial()) throw new IllegalArgumentException("AdversarialObjective needs --adv fgsm, fgsm-rs or pgd");
        this.backend = backend;
        this.training = training;
        this.seed = seed;
        this.cleanTape = new Tape(backend);
        this.cleanShare = new Ops.Affine(training.mix(), 0f);
        this.adversarialShare = new Ops.Affine(1f - training.mix(), 0f);
        this.mixSeed = backend.allocate(Shape.of(1));
        backend.fill(mixSeed, training.mix());
    }

    /** The objective for these settings: the standard one for {@code none}. */
    public static Objective of(Backend backend, AdversarialTraining training, long seed) {
        return training.adversarial() ? new AdversarialObjective(backend, training, seed) : Objective.standard();
    }

    public AdversarialTraining training() { return training; }

    @Override public void startEpoch(int epoch) {
        if (attack != null && (!training.method().randomStart() || epoch == attackEpoch)) return;
        long epochSeed = seed * 0x9E3779B97F4A7C15L + (epoch + 1L) * 0xC2B2AE3D27D4EB4FL;
        attackEpoch = epoch;
        if (attack != null && attack.reseed(epochSeed)) return;  // the same draws as a new attack, its buffers kept
        closeAttack();
        attack = Attack.create(backend, training.attack(epochSeed));
        // The examples are crafted with the model in training mode, as in Wong et al.'s (fgsm-rs) and
        // Madry et al.'s (pgd) training code: batch norm normalises with the batch's statistics and
        // its running statistics move with each crafting pass too. The seed's Net has no such layer.
        attack.setEvaluationMode(false);
    }

    @Override public Step loss(Module model, Tape tape, Variable images, Variable labels) {
        if (training.mix() == 1f) {  // all weight on the clean loss: the attack would be wasted work
            Variable logProbs = model.forward(images);
            return step.set(Ops.nllLoss(logProbs, labels), logProbs);
        }
        if (training.method() == AdversarialTraining.Method.FGSM && training.mix() > 0f) {
            return fgsmSharingTheCleanPass(model, tape, images, labels);
        }
        if (attack == null) startEpoch(0);  // used outside a Trainer, as the tests do
        // The attack differentiates with respect to the input on its own tape, with the parameters
        // frozen; what comes back is a plain tensor, a constant here.
        Tensor adversarial = attack.perturb(model, images.data(), labels.data());
        lastAdversarial = adversarial;
        Variable adversarialLogProbs = model.forward(tape.constant(adversarial));
        Variable adversarialLoss = Ops.nllLoss(adversarialLogProbs, labels);
        // Madry's and Wong et al.'s objective, the adversarial loss alone: no clean pass at all, and
        // the training accuracy reported is the adversarial batch's, as in their training logs.
        if (training.mix() == 0f) return step.set(adversarialLoss, adversarialLogProbs);
        Variable cleanLogProbs = model.forward(images);
        Variable cleanLoss = Ops.nllLoss(cleanLogProbs, labels);
        Variable loss = Ops.add(cleanShare.apply(cleanLoss), adversarialShare.apply(adversarialLoss));
        return step.set(loss, cleanLogProbs);
    }

    /**
     * The seed's Eq. 3 with one clean pass:
     * <pre>
     *   on the clean tape:  L_clean = L(θ, x, y), x requiring grad; backward seeded with mix
     *                       → θ.grad += mix·∇θ L_clean,  x.grad = mix·∇x L_clean
     *   x_adv = clip(x + ε·sign(x.grad), 0, 1)            sign(mix·g) = sign(g), as mix > 0
     *   on the step's tape: L = mix·[L_clean] + (1 − mix)·L(θ, x_adv, y)
     * </pre>
     * [L_clean] enters the step's tape as a constant, so the Trainer's backward reaches θ through
     * the adversarial term alone and adds (1 − mix)·∇θ L(θ, x_adv, y): together, exactly Eq. 3's
     * gradient, with x_adv a constant. The clean pass runs in the model's current (training) mode,
     * as the attacks of the other methods do (see {@link #startEpoch}). Its tape is reset
     * at the next step, so the returned clean log-probabilities stay valid until then.
     */
    private Step fgsmSharingTheCleanPass(Module model, Tape tape, Variable images, Variable labels) {
        cleanTape.reset();
        Variable input = cleanTape.input(images.data(), true);
        Variable cleanLogProbs = model.forward(input);
        Variable cleanLoss = Ops.nllLoss(cleanLogProbs, cleanTape.constant(labels.data()));
        cleanTape.backward(cleanLoss, mixSeed);

        Tensor adversarial = adversarialBatches.get(images.shape());
        if (adversarial == null) adversarialBatches.put(images.shape(), adversarial = backend.allocate(images.shape()));
        backend.unary(UnaryOp.SIGN, input.grad(), adversarial);
        backend.affine(adversarial, training.eps(), 0f, adversarial);
        backend.binary(BinaryOp.ADD, images.data(), adversarial, adversarial);
        backend.clamp(adversarial, 0f, 1f, adversarial);
        lastAdversarial = adversarial;

        Variable adversarialLoss = Ops.nllLoss(model.forward(tape.constant(adversarial)), labels);
        Variable loss = Ops.add(cleanShare.apply(tape.constant(cleanLoss.data())), adversarialShare.apply(adversarialLoss));
        return step.set(loss, cleanLogProbs);
    }

    @Override public Map<String, Object> settings() { return training.settings(); }

    /** The last step's adversarial batch (the attack's buffer, valid until the next step), for tests. */
    Tensor lastAdversarial() { return lastAdversarial; }

    /** Tensors the attacks have allocated so far (this epoch's and the earlier ones'). */
    public int allocations() {
        return retiredAllocations + (attack == null ? 0 : attack.allocations()) + cleanTape.allocations()
                + adversarialBatches.size();
    }

    private void closeAttack() {
        if (attack == null) return;
        retiredAllocations += attack.allocations();
        attack.close();
        attack = null;
        lastAdversarial = null;
    }

    @Override public void close() {
        closeAttack();
        cleanTape.close();
        for (Tensor t : adversarialBatches.values()) backend.release(t);
        adversarialBatches.clear();
        backend.release(mixSeed);
    }

    @Override public String toString() { return training.describe(); }
}
