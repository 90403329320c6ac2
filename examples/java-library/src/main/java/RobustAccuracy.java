import advtrain.attack.*;
import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Cifar10;
import advtrain.nn.Architectures;
import advtrain.nn.Module;
import advtrain.nn.Net;
import java.nio.file.Path;

// java --add-modules jdk.incubator.vector RobustAccuracy MODEL_FILE CIFAR10_DIR
public class RobustAccuracy {
    public static void main(String[] args) throws Exception {
        try (Backend backend = Backends.select("auto", null).backend()) {
            Module net = Architectures.load(backend, Path.of(args[0]));  // the network a model.safetensors names, with its weights
            AttackConfig pgd = AttackConfig.pgd(8 / 255f).withSteps(10).withRandomStart(true);
            try (var eval = new RobustnessEvaluator(backend, net, Cifar10.test(Path.of(args[1]), 200), 100, Net.CLASSES, true)) {
                System.out.println(pgd.describe() + ": robust accuracy " + eval.run(pgd).robustAccuracy());
            }
        }
    }
}
