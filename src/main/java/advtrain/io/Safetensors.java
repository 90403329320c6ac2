package advtrain.io;

import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name
 * to {dtype, shape, data_offsets: [begin, end]} (offsets into the data that follows), then the
 * raw little-endian data. Files come from anywhere, so the reader checks every number in the header
 * before it touches the data. Float32 ("F32") tensors are read and written, and int64 ("I64") ones,
 * which PyTorch's state_dicts hold for batch norm's num_batches_tracked; any other dtype is refused.
 */
public final class Safetensors {
    /** A header over this size is refused (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private Safetensors() {}

    /** A file's tensors in file order, plus its "__metadata__" strings. */
    public record Contents(Map<String, HostTensor> tensors, Map<String, String> metadata) {}

    public static Contents read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) throw bad(file, "it is " + fileSize + " bytes, too short for the 8-byte header length");
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + Long.toUnsignedString(headerLength) + " is outside [2, " + MAX_HEADER_BYTES + "]");
            }
            if (8 + headerLength > fileSize) {
                throw bad(file, "header length " + headerLength + " runs past the end of the " + fileSize + "-byte file");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(headerBytes.array(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw bad(file, "header is not valid JSON (" + e.getMessage() + ")");
            }
            if (!(parsed instanceof Map<?, ?> header)) throw bad(file, "header is not a JSON object");

            long dataStart = 8 + headerLength, dataSize = fileSize - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Span> spans = new ArrayList<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> meta)) throw bad(file, "__metadata__ is not an object");
                    for (Map.Entry<?, ?> m : meta.entrySet()) {
                        if (!(m.getValue() instanceof String value)) throw bad(file, "__metadata__ value for " + m.getKey() + " is not a string");
                        metadata.put((String) m.getKey(), value);
                    }
                    continue;
                }
                spans.add(span(file, name, e.getValue(), dataSize));
            }
            // The tensors must cover the data exactly, as the format requires: sorted by start, each
            // begins where the one before ends (no overlap, no hole), and the last ends at the file's end.
            List<Span> byOffset = new ArrayList<>(spans);
            byOffset.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
            for (int i = 1; i < byOffset.size(); i++) {
                Span prev = byOffset.get(i - 1), cur = byOffset.get(i);
                if (cur.begin < prev.end) throw bad(file, "tensors " + prev.name + " and " + cur.name + " overlap");
            }
            long covered = 0;
            for (Span cur : byOffset) {
                if (cur.begin > covered) {
                    throw bad(file, "data bytes [" + covered + ", " + cur.begin + ") belong to no tensor (a hole before " + cur.name + ")");
                }
                covered = cur.end;
            }
            if (covered != dataSize) {
                throw bad(file, (dataSize - covered) + " bytes after the last tensor's data (the tensors cover " + covered
                        + " of the " + dataSize + " data bytes): a damaged or foreign file");
            }
            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            for (Span s : spans) {
                ByteBuffer bytes = ByteBuffer.allocate((int) (s.end - s.begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(channel, bytes, dataStart + s.begin);
                bytes.flip();
                if (s.isLong) {
                    long[] values = new long[s.shape.size()];
                    bytes.asLongBuffer().get(values);
                    tensors.put(s.name, HostTensor.ofLongs(s.shape, values));
                } else {
                    float[] values = new float[s.shape.size()];
                    bytes.asFloatBuffer().get(values);
                    tensors.put(s.name, new HostTensor(s.shape, values));
                }
            }
            return new Contents(tensors, metadata);
        }
    }

    private record Span(String name, Shape shape, long begin, long end, boolean isLong) {}

    private static Span span(Path file, String name, Object entry, long dataSize) throws IOException {
        if (!(entry instanceof Map<?, ?> info)) throw bad(file, "entry " + name + " is not an object");
        Object dtype = info.get("dtype");
        if (!"F32".equals(dtype) && !"I64".equals(dtype)) {
            throw bad(file, "tensor " + name + " has dtype " + dtype + "; advtrain reads F32 and I64 only");
        }
        int elementBytes = "I64".equals(dtype) ? 8 : 4;
        if (!(info.get("shape") instanceof List<?> dimList)) throw bad(file, "tensor " + name + " has no shape list");
        if (dimList.size() > 8) throw bad(file, "tensor " + name + " has " + dimList.size() + " dimensions");
        int[] dims = new int[dimList.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            if (!(dimList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw bad(file, "tensor " + name + " has a bad dimension " + dimList.get(i));
            }
            dims[i] = (int) (long) d;
            elements *= d;
            if (elements > Integer.MAX_VALUE) throw bad(file, "tensor " + name + " is too large");
        }
        if (!(info.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Number first) || !(offsets.get(1) instanceof Number second)) {
            throw bad(file, "tensor " + name + " needs data_offsets [begin, end]");
        }
        if (!(first instanceof Long begin) || !(second instanceof Long end)) {  // the JSON reader gives Double past 18 digits
            throw bad(file, "tensor " + name + " has data_offsets [" + plain(first) + ", " + plain(second)
                    + "], not whole byte offsets within the " + dataSize + " data bytes");
        }
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(file, "tensor " + name + " has data_offsets [" + begin + ", " + end + "] outside the " + dataSize + " data bytes");
        }
        if (end - begin != elements * elementBytes) {
            throw bad(file, "tensor " + name + " has " + (end - begin) + " bytes but shape " + java.util.Arrays.toString(dims)
                    + " needs " + elements * elementBytes + " (" + dtype + ")");
        }
        return new Span(name, Shape.of(dims), begin, end, elementBytes == 8);
    }

    /** A number as written, not in exponent notation: 2^62 reads 4611686018427387904. */
    private static String plain(Number n) {
        double d = n.doubleValue();
        return Double.isFinite(d) ? new java.math.BigDecimal(d).stripTrailingZeros().toPlainString() : n.toString();
    }

    /** Writes to a temporary file beside the target and renames it: a reader never sees half a file. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new TreeMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            Map<String, Object> info = new LinkedHashMap<>();
            HostTensor t = e.getValue();
            info.put("dtype", t.dtype());
            info.put("shape", t.shape().dims());
            long bytes = t.isLong() ? 8L * t.longValues().length : 4L * t.values().length;
            info.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(e.getKey(), info);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;  // data starts 8-byte aligned, padded with spaces
        ByteBuffer out = ByteBuffer.allocate((int) (8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) out.put((byte) ' ');
        for (HostTensor t : tensors.values()) {
            if (t.isLong()) for (long v : t.longValues()) out.putLong(v);
            else for (float v : t.values()) out.putFloat(v);
        }
        AtomicFiles.write(file, out.array());
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static InvalidFileException bad(Path file, String what) {
        return new InvalidFileException("not a valid safetensors file: " + file + ": " + what);
    }

    /** A file that exists but whose contents are wrong (as opposed to an I/O failure). */
    public static final class InvalidFileException extends IOException {
        public InvalidFileException(String message) { super(message); }
    }
}
