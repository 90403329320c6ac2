package advtrain.tensor;

/**
 * A tensor's shape and values on the host: what files hold and what tests compare. Nearly every
 * tensor is float32 ({@code values}); a few state_dict entries are int64 (batch norm's
 * num_batches_tracked), held exactly in {@code longValues}, with {@code values} then null.
 */
public record HostTensor(Shape shape, float[] values, long[] longValues) {
    public HostTensor {
        if ((values == null) == (longValues == null)) {
            throw new IllegalArgumentException("a host tensor holds either float32 or int64 values, not both or neither");
        }
        int n = values != null ? values.length : longValues.length;
        if (n != shape.size()) throw new IllegalArgumentException(n + " values for shape " + shape);
    }

    /** A float32 tensor. */
    public HostTensor(Shape shape, float[] values) { this(shape, values, null); }

    /** An int64 tensor. */
    public static HostTensor ofLongs(Shape shape, long[] values) { return new HostTensor(shape, null, values); }

    /** Whether the values are int64 ({@link #longValues}) rather than float32. */
    public boolean isLong() { return longValues != null; }

    /** The safetensors name of the element type: "F32" or "I64". */
    public String dtype() { return isLong() ? "I64" : "F32"; }
}
