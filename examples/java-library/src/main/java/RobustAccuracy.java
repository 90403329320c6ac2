import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.Evaluator;
import advtrain.backend.Backend;
import advtrain.backend.Backends;
import advtrain.data.Cifar10;
import advtrain.io.ModelFiles;
import advtrain.nn.Net;
import java.nio.file.Path;

/** Robust accuracy of a model file under PGD with a random start: java RobustAccuracy MODEL DATA_DIR */
public class RobustAccuracy {
    public static void main(String[] args) throws Exception {
        try (Backend backend = Backends.select("auto", null).backend()) {
            Net net = new Net(backend, 0);
            ModelFiles.load(net, backend, Path.of(args[0]));  // a model.safetensors (PyTorch state_dict names)
            AttackConfig pgd = AttackConfig.pgd(8 / 255f).withSteps(10).withRandomStart(true);
            try (Evaluator eval = new Evaluator(backend, net, Cifar10.test(Path.of(args[1]), 200), 100, Net.CLASSES, true)) {
                AttackResult r = eval.run(pgd);
                System.out.printf("%s on %d test images: clean accuracy %.1f %%, robust accuracy %.1f %%%n",
                        pgd.describe(), r.n(), 100 * r.cleanAccuracy(), 100 * r.robustAccuracy());
            }
        }
    }
}
