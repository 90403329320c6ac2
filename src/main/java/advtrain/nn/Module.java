package advtrain.nn;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.tensor.Shape;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A piece of a network: forward maps a variable to a variable; parameters and buffers are named as
 * in PyTorch, and the state_dict lists them in PyTorch's order (a module's parameters, then its
 * buffers, then its children's entries, recursively).
 */
public abstract class Module {
    private boolean training = true;
    private List<Variable> parameters;  // found once (see layoutChanged): a training step allocates nothing
    private List<Module> childList;     // likewise, for forward and train()/eval(), which run every step

    public abstract Variable forward(Variable x);

    /** This module's own parameters by local name ("weight", "bias"); none by default. */
    protected Map<String, Variable> ownParameters() { return Collections.emptyMap(); }

    /** This module's own buffers by local name ("running_mean"), in state_dict order; none by default. */
    protected Map<String, Buffer> ownBuffers() { return Collections.emptyMap(); }

    /** Child modules by name, in the order of the state_dict. */
    protected Map<String, Module> children() { return Collections.emptyMap(); }

    /** Every parameter under its PyTorch state_dict name ("conv1.weight"), in state_dict order. */
    public final Map<String, Variable> namedParameters() {
        Map<String, Variable> all = new LinkedHashMap<>(ownParameters());
        children().forEach((name, child) ->
                child.namedParameters().forEach((sub, p) -> all.put(name + "." + sub, p)));
        return all;
    }

    /** Every buffer under its state_dict name ("bn1.running_mean"), in state_dict order. */
    public final Map<String, Buffer> namedBuffers() {
        Map<String, Buffer> all = new LinkedHashMap<>(ownBuffers());
        children().forEach((name, child) ->
                child.namedBuffers().forEach((sub, b) -> all.put(name + "." + sub, b)));
        return all;
    }

    /** What the state_dict of a module holds under one name: a parameter or a buffer. */
    public record StateEntry(Variable parameter, Buffer buffer) {
        public Shape shape() { return parameter != null ? parameter.shape() : buffer.shape(); }

        public String dtype() { return parameter != null ? "F32" : buffer.dtype(); }
    }

    /** The state_dict's entries in PyTorch's order: own parameters, own buffers, then each child's entries. */
    public final Map<String, StateEntry> stateEntries() {
        Map<String, StateEntry> all = new LinkedHashMap<>();
        ownParameters().forEach((name, p) -> all.put(name, new StateEntry(p, null)));
        ownBuffers().forEach((name, b) -> all.put(name, new StateEntry(null, b)));
        children().forEach((name, child) ->
                child.stateEntries().forEach((sub, e) -> all.put(name + "." + sub, e)));
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
