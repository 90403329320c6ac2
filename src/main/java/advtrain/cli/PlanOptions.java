package advtrain.cli;

import advtrain.data.Cifar10;
import advtrain.experiments.Plan;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ListResourceBundle;
import java.util.Locale;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.function.Function;

/**
 * The options of reproduce and demo that change the plan's sizes (smaller runs, tests). Their help
 * states the defaults of the command it is shown for, taken from the plans themselves: reproduce
 * runs {@link Plan#full()} or, with --quick, {@link Plan#quick()}; demo always runs the quick plan.
 */
public final class PlanOptions {
    @Option(names = "--epochs", paramLabel = "N", description = "epochs of every model")
    Integer epochs;

    @Option(names = "--lr", paramLabel = "LR", description = "SGD learning rate of every model")
    Float lr;

    @Option(names = "--attack-limit", paramLabel = "N", description = "test images every attack runs on")
    Integer attackLimit;

    @Option(names = "--adv-eps", paramLabel = "LIST", description = "training eps of the adversarially trained models")
    String advEps;

    /** reproduce's help: the full plan's defaults, and the quick plan's with --quick. */
    public static final class ReproduceHelp implements CommandLine.IModelTransformer {
        @Override public CommandSpec transform(CommandSpec spec) {
            return spec.resourceBundle(help(Plan.full(), Plan.quick()));
        }
    }

    /** demo's help: the quick plan's defaults (demo has no --quick: it is always quick). */
    public static final class DemoHelp implements CommandLine.IModelTransformer {
        @Override public CommandSpec transform(CommandSpec spec) {
            return spec.resourceBundle(help(Plan.quick(), null));
        }
    }

    /**
     * The descriptions of the plan's size options (those above, --limit-train and --limit-test), each
     * with its default under {@code plan}, and under {@code quick} "with --quick" unless null. Picocli
     * finds an option's description in the bundle under its long name without the dashes.
     */
    static ResourceBundle help(Plan plan, Plan quick) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("epochs", "epochs of every model" + defaults(plan, quick, p -> Integer.toString(p.epochs())));
        text.put("lr", "SGD learning rate of every model" + defaults(plan, quick, p -> Plan.fmt(p.lr())));
        text.put("attack-limit", "test images every attack runs on" + defaults(plan, quick, p -> images(p.attackImages(), Cifar10.TEST_SIZE)));
        text.put("adv-eps", "training eps of the adversarially trained models" + defaults(plan, quick, p -> Plan.list(p.advEps()).replace(", ", ",")));
        text.put("limit-train", "use only the first N training images" + defaults(plan, quick, p -> images(p.trainImages(), Cifar10.TRAIN_SIZE)));
        text.put("limit-test", "use only the first N test images" + defaults(plan, quick, p -> images(p.testImages(), Cifar10.TEST_SIZE)));
        return new ListResourceBundle() {
            @Override protected Object[][] getContents() {
                Object[][] contents = new Object[text.size()][];
                int i = 0;
                for (Map.Entry<String, String> e : text.entrySet()) contents[i++] = new Object[] {e.getKey(), e.getValue()};
                return contents;
            }
        };
    }

    private static String defaults(Plan plan, Plan quick, Function<Plan, String> value) {
        return " (default: " + value.apply(plan) + (quick == null ? "" : ", or " + value.apply(quick) + " with --quick") + ")";
    }

    private static String images(int n, int all) {
        return n >= all ? String.format(Locale.ROOT, "all %,d", all) : String.format(Locale.ROOT, "%,d", n);
    }

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
