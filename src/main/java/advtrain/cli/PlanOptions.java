package advtrain.cli;

import advtrain.experiments.Plan;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** The options of reproduce and demo that change the plan's sizes (smaller runs, tests). */
public final class PlanOptions {
    @Option(names = "--epochs", paramLabel = "N", description = "epochs of every model (default: 20, or 3 with --quick)")
    Integer epochs;

    @Option(names = "--lr", paramLabel = "LR", description = "SGD learning rate of every model (default: the seed's 0.001, or 0.02 with --quick)")
    Float lr;

    @Option(names = "--attack-limit", paramLabel = "N", description = "test images every attack runs on (default: all test images, or 300 with --quick)")
    Integer attackLimit;

    @Option(names = "--adv-eps", paramLabel = "LIST", description = "training eps of the adversarially trained models (default: 0.01,0.02,0.03, or 0.01,0.03 with --quick)")
    String advEps;

    /** The plan with these options (and --limit-train, --limit-test) applied; named "NAME, modified" when any is. */
    Plan apply(Plan plan, DataOptions data) {
        List<String> changed = new ArrayList<>();
        if (data.limitTrain != null) {
            if (data.limitTrain < 1) throw new Main.UsageError("--limit-train must be >= 1, got " + data.limitTrain);
            plan = plan.withTrainImages(data.limitTrain);
            changed.add("--limit-train");
        }
        if (data.limitTest != null) {
            if (data.limitTest < 1) throw new Main.UsageError("--limit-test must be >= 1, got " + data.limitTest);
            plan = plan.withTestImages(data.limitTest);
            changed.add("--limit-test");
        }
        if (epochs != null) {
            if (epochs < 1) throw new Main.UsageError("--epochs must be >= 1, got " + epochs);
            plan = plan.withEpochs(epochs);
            changed.add("--epochs");
        }
        if (lr != null) {
            if (!(lr > 0) || !Float.isFinite(lr)) throw new Main.UsageError("--lr must be a number > 0, got " + lr);
            plan = plan.withLr(lr);
            changed.add("--lr");
        }
        if (attackLimit != null) {
            if (attackLimit < 1) throw new Main.UsageError("--attack-limit must be >= 1, got " + attackLimit);
            plan = plan.withAttackImages(attackLimit);
            changed.add("--attack-limit");
        }
        if (advEps != null) {
            float[] list = AttackOptions.parseEpsList("--adv-eps", advEps);
            for (float e : list) AttackOptions.checkPixelEps("--adv-eps", e);
            for (float e : list) if (!(e > 0)) throw new Main.UsageError("--adv-eps values must be > 0, got " + e);
            plan = plan.withAdvEps(list);
            changed.add("--adv-eps");
        }
        return changed.isEmpty() ? plan : plan.named(plan.name() + ", modified by " + String.join(" ", changed));
    }
}
