package advtrain.nn;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A piece of a network: forward maps a variable to a variable; parameters are named as in PyTorch. */
public abstract class Module {
    private boolean training = true;
    private List<Variable> parameters;  // found once (see layoutChanged): a training step allocates nothing
    private List<Module> childList;     // likewise, for forward and train()/eval(), which run every step

    public abstract Variable forward(Variable x);

    /** This module's own parameters by local name ("weight", "bias"); none by default. */
    protected Map<String, Variable> ownParameters() { return Collections.emptyMap(); }

    /** Child modules by name, in the order of the state_dict. */
    protected Map<String, Module> children() { return Collections.emptyMap(); }

    /** Every parameter under its PyTorch state_dict name ("conv1.weight"), in state_dict order. */
    public final Map<String, Variable> namedParameters() {
        Map<String, Variable> all = new LinkedHashMap<>(ownParameters());
        children().forEach((name, child) ->
                child.namedParameters().forEach((sub, p) -> all.put(name + "." + sub, p)));
        return all;
    }

    /** Every parameter in state_dict order (an unmodifiable list, the same one each call). */
    public final List<Variable> parameters() {
        if (parameters == null) parameters = List.copyOf(namedParameters().values());
        return parameters;
    }

    public final int parameterCount() {
        int n = 0;
        for (Variable p : namedParameters().values()) n += p.shape().size();
        return n;
    }

    /** Sets every parameter gradient to zero (PyTorch's zero_grad with set_to_none=False). */
    public final void zeroGrad(Backend backend) {
        List<Variable> all = parameters();
        for (int i = 0; i < all.size(); i++) backend.fill(all.get(i).grad(), 0f);
    }

    /** For subclasses that add children or parameters after construction. */
    protected final void layoutChanged() {
        parameters = null;
        childList = null;
    }

    public final boolean isTraining() { return training; }

    /** Training or evaluation mode, for this module and all below it. */
    public final void train(boolean on) {
        training = on;
        List<Module> all = childList();
        for (int i = 0; i < all.size(); i++) all.get(i).train(on);
    }

    /** The children in order (an unmodifiable list, the same one each call): walked by index, no iterator per step. */
    protected final List<Module> childList() {
        if (childList == null) childList = List.copyOf(children().values());
        return childList;
    }

    public final void eval() { train(false); }
}
