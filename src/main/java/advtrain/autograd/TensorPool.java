package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Recycles the tensors of one step for the next. A training step asks for the same shapes in the
 * same order every time, so after the first step every request is served from the free lists and
 * the backend allocates nothing.
 */
final class TensorPool {
    private final Backend backend;
    private final Map<Shape, ArrayDeque<Tensor>> free = new HashMap<>();
    private final List<Tensor> inUse = new ArrayList<>();
    private int allocations;

    TensorPool(Backend backend) { this.backend = backend; }

    /** A tensor of this shape with unspecified contents, valid until {@link #releaseAll}. */
    Tensor take(Shape shape) {
        ArrayDeque<Tensor> list = free.get(shape);
        Tensor t = list == null ? null : list.pollLast();
        if (t == null) {
            t = backend.allocate(shape);
            allocations++;
        }
        inUse.add(t);
        return t;
    }

    /**
     * Every tensor handed out goes back to the free lists. An index loop, not for-each: C2 does not
     * always remove the iterator object, and with -XX:-UseLoopPredicate (the launcher's flag) it
     * was allocated every step in some JVMs (32 bytes).
     */
    void releaseAll() {
        for (int i = 0; i < inUse.size(); i++) {
            Tensor t = inUse.get(i);
            free.computeIfAbsent(t.shape(), s -> new ArrayDeque<>()).addLast(t);
        }
        inUse.clear();
    }

    /** Frees the backend memory of every pooled tensor. */
    void clear() {
        releaseAll();
        for (ArrayDeque<Tensor> list : free.values()) for (Tensor t : list) backend.release(t);
        free.clear();
    }

    /** How many tensors the backend has had to allocate so far (flat in steady state). */
    int allocations() { return allocations; }
}
