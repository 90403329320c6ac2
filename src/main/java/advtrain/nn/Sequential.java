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

    /** Each layer's forward in turn. */
    @Override public Variable forward(Variable x) {
        List<Module> inOrder = childList();
        for (int i = 0; i < inOrder.size(); i++) x = inOrder.get(i).forward(x);
        return x;
    }

    @Override protected Map<String, Module> children() { return layers; }
}
