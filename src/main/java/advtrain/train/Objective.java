package advtrain.train;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.nn.Module;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one training step minimises. The {@link Trainer} hands over the model, the step's tape, the
 * batch of images (pixels in [0, 1], NCHW, not requiring a gradient) and the labels; the objective
 * builds the scalar loss on the tape and the Trainer runs backward and the optimizer step.
 *
 * <p>The standard objective is the NLL of the model's log-probabilities. Adversarial training
 * plugs in here: an objective that needs the gradient with respect to the input crafts x_adv from
 * {@code images.data()} on a tape of its own (a backward pass on the step's tape would otherwise be
 * replayed by the Trainer's), with the parameters' requiresGrad off or their gradients zeroed
 * afterwards, and returns, say, the seed's mix a·L(x) + (1−a)·L(x_adv) built on the step's tape:
 * {@link AdversarialObjective} does this with the attack package. An objective may also accumulate
 * part of the parameter gradient itself, during {@code loss} (after the Trainer has zeroed the
 * gradients and before its backward): the gradient that counts is what is in the parameters after
 * that backward.
 */
public interface Objective extends AutoCloseable {

    /**
     * The loss to minimise (a scalar Variable on the tape) and the log-probabilities whose argmax
     * counts toward the reported training accuracy (the clean forward pass where there is one,
     * the adversarial one where the loss has no clean term; null to report no training accuracy). An objective may hand back the same Step object every
     * time with new contents ({@link #set}), so that a steady-state step allocates nothing: read it
     * before the next call.
     */
    final class Step {
        private Variable loss, logProbs;

        public Step(Variable loss, Variable logProbs) { set(loss, logProbs); }

        /** Refills this Step for the current training step and returns it. */
        public Step set(Variable loss, Variable logProbs) {
            this.loss = loss;
            this.logProbs = logProbs;
            return this;
        }

        public Variable loss() { return loss; }

        public Variable logProbs() { return logProbs; }
    }

    Step loss(Module model, Tape tape, Variable images, Variable labels);

    /**
     * The objective's name and settings ({"adv": "none"} for the standard one), recorded in
     * run.json; resuming a run needs the same settings.
     */
    Map<String, Object> settings();

    /**
     * Called by the {@link Trainer} before each epoch (0-based). An objective with randomness of its
     * own (random starts) reseeds it from the epoch here, so that a resumed run draws what an
     * uninterrupted one would have.
     */
    default void startEpoch(int epoch) {}

    /** Gives back what the objective holds on the backend (an attack's buffers); none by default. */
    @Override default void close() {}

    /** The seed's plain training: NLLLoss (mean over the batch) of the model's log-probabilities. */
    static Objective standard() {
        return new Objective() {
            private final Step step = new Step(null, null);

            @Override public Step loss(Module model, Tape tape, Variable images, Variable labels) {
                Variable logProbs = model.forward(images);
                return step.set(Ops.nllLoss(logProbs, labels), logProbs);
            }

            @Override public Map<String, Object> settings() {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("adv", "none");
                return s;
            }
        };
    }
}
