package advtrain.nn;

import advtrain.autograd.Variable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Modules applied one after another; named children give the state_dict its names. */
public class Sequential extends Module {
    private final Map<String, Module> layers = new LinkedHashMap<>();

    /** Adds a layer; its parameters appear as "name.weight", "name.bias". */
    public Sequential add(String name, Module layer) {
        if (layers.putIfAbsent(name, layer) != null) throw new IllegalArgumentException("duplicate layer name " + name);
        layoutChanged();
        return this;
    }

    /**
     * Each layer's forward in turn; a convolution directly followed by a max-pool runs as one op
     * (Conv2d.forwardThenPool), which evaluation runs without keeping the convolution's output.
     */
    @Override public Variable forward(Variable x) {
        List<Module> inOrder = childList();
        for (int i = 0; i < inOrder.size(); i++) {
            if (inOrder.get(i) instanceof Layers.Conv2d conv && i + 1 < inOrder.size()
                    && inOrder.get(i + 1) instanceof Layers.MaxPool2d pool) {
                x = conv.forwardThenPool(x, pool);
                i++;
            } else {
                x = inOrder.get(i).forward(x);
            }
        }
        return x;
    }

    @Override protected Map<String, Module> children() { return layers; }
}
