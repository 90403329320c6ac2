package advtrain.tensor;

/** A tensor's shape and values on the host: what files hold and what tests compare. */
public record HostTensor(Shape shape, float[] values) {
    public HostTensor {
        if (values.length != shape.size()) {
            throw new IllegalArgumentException(values.length + " values for shape " + shape);
        }
    }
}
