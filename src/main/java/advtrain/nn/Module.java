package advtrain.nn;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A piece of a network: forward maps a variable to a variable; parameters are named as in PyTorch. */
public abstract class Module {
    private boolean training = true;

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

    public final List<Variable> parameters() { return new ArrayList<>(namedParameters().values()); }

    public final int parameterCount() {
        int n = 0;
        for (Variable p : namedParameters().values()) n += p.shape().size();
        return n;
    }

    /** Sets every parameter gradient to zero (PyTorch's zero_grad with set_to_none=False). */
    public final void zeroGrad(Backend backend) {
        for (Variable p : namedParameters().values()) backend.fill(p.grad(), 0f);
    }

    public final boolean isTraining() { return training; }

    /** Training or evaluation mode, for this module and all below it. */
    public final void train(boolean on) {
        training = on;
        for (Module child : children().values()) child.train(on);
    }

    public final void eval() { train(false); }
}
