package advtrain.tensor;

/**
 * A dense float32 tensor: a shape and the backend storage holding its elements, contiguous and
 * row-major (NCHW for images). It does no math: the backend does, and autograd builds on it.
 */
public final class Tensor {
    private final Shape shape;
    private final Storage storage;

    public Tensor(Shape shape, Storage storage) {
        if (storage.capacity() < shape.size()) {
            throw new IllegalArgumentException("storage of " + storage.capacity() + " floats cannot hold " + shape);
        }
        this.shape = shape;
        this.storage = storage;
    }

    public Shape shape() { return shape; }

    public Storage storage() { return storage; }

    public int size() { return shape.size(); }

    /** The same elements seen with another shape of the same size (flatten, for example). */
    public Tensor view(Shape newShape) {
        if (newShape.size() != shape.size()) {
            throw new IllegalArgumentException("view: cannot see " + shape + " as " + newShape);
        }
        return new Tensor(newShape, storage);
    }

    @Override public String toString() { return "Tensor" + shape; }
}
