package advtrain.io;

import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    @TempDir Path dir;

    // ---- round trip -----------------------------------------------------------------------------

    @Test
    void writesAndReadsBackEveryTensorBitForBitInOrderWithMetadata() throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", new HostTensor(Shape.of(2, 3), new float[] {1f / 3, -0f, Float.MIN_VALUE, Float.MAX_VALUE, -1e-30f, 7}));
        tensors.put("a.bias", new HostTensor(Shape.of(4), new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0}));
        tensors.put("m", new HostTensor(Shape.of(1, 1, 2, 2), new float[] {1, 2, 3, 4}));
        tensors.put("scalar", new HostTensor(Shape.of(), new float[] {2.5f}));
        tensors.put("empty", new HostTensor(Shape.of(0, 3), new float[0]));
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(file, tensors, Map.of("format", "pt", "note", "quotes \" and \\ and\nnewlines"));

        Safetensors.Contents back = Safetensors.read(file);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()), "file order kept");
        tensors.forEach((name, t) -> {
            HostTensor b = back.tensors().get(name);
            assertEquals(t.shape(), b.shape(), name);
            assertEquals(t.values().length, b.values().length, name);
            for (int i = 0; i < t.values().length; i++) {
                assertEquals(Float.floatToRawIntBits(t.values()[i]), Float.floatToRawIntBits(b.values()[i]), name + "[" + i + "]");
            }
        });
        assertEquals(Map.of("format", "pt", "note", "quotes \" and \\ and\nnewlines"), back.metadata());

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data starts 8-byte aligned");
        assertEquals(8 + headerLength + 4 * (6 + 4 + 4 + 1), bytes.length);
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList(), "no temporary file left behind");
        }
    }

    @Test
    void overwritingReplacesTheWholeFile() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Safetensors.write(file, Map.of("big", new HostTensor(Shape.of(100), new float[100])), null);
        Safetensors.write(file, Map.of("small", new HostTensor(Shape.of(1), new float[] {5})), null);
        Safetensors.Contents back = Safetensors.read(file);
        assertEquals(List.of("small"), List.copyOf(back.tensors().keySet()));
        assertTrue(back.metadata().isEmpty());
    }

    @Test
    void readsAFileWrittenByThePythonGoldenScript() throws Exception {
        Path file = Path.of(SafetensorsTest.class.getResource("/goldens/net_state.safetensors").toURI());
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, Shape> expected = new LinkedHashMap<>();
        expected.put("conv1.weight", Shape.of(6, 3, 5, 5));
        expected.put("conv1.bias", Shape.of(6));
        expected.put("conv2.weight", Shape.of(16, 6, 5, 5));
        expected.put("conv2.bias", Shape.of(16));
        expected.put("fc1.weight", Shape.of(120, 400));
        expected.put("fc1.bias", Shape.of(120));
        expected.put("fc2.weight", Shape.of(84, 120));
        expected.put("fc2.bias", Shape.of(84));
        expected.put("fc3.weight", Shape.of(10, 84));
        expected.put("fc3.bias", Shape.of(10));
        Map<String, Shape> got = new LinkedHashMap<>();
        c.tensors().forEach((name, t) -> got.put(name, t.shape()));
        assertEquals(expected, got);
        assertEquals("tools/make_goldens.py", c.metadata().get("source"));
    }

    // ---- hostile files --------------------------------------------------------------------------

    /** A file with this header length field, header text and data bytes. */
    private Path raw(long headerLength, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(json);
        Path file = Files.createTempFile(dir, "hostile", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    private Path raw(String header, int dataBytes) throws IOException {
        return raw(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    /** Reading must fail with InvalidFileException naming the file and containing every fragment. */
    private static void assertRejected(Path file, String... fragments) {
        Safetensors.InvalidFileException e = assertThrows(Safetensors.InvalidFileException.class, () -> Safetensors.read(file));
        String message = e.getMessage();
        assertTrue(message.startsWith("not a valid safetensors file: " + file + ": "), message);
        for (String f : fragments) assertTrue(message.contains(f), "message should mention \"" + f + "\": " + message);
    }

    @Test
    void rejectsAHeaderLengthPastTheEndOfTheFile() throws IOException {
        assertRejected(raw(1000, "{}", 16), "header length 1000", "past the end of the 26-byte file");
    }

    @Test
    void rejectsAHeaderOver100MB() throws IOException {
        assertRejected(raw(200_000_000L, "{}", 0), "header length 200000000", "100000000");
        assertRejected(raw(-1L, "{}", 0), "header length 18446744073709551615");
        assertRejected(raw(1, "{}", 0), "header length 1");
    }

    @Test
    void rejectsAFileTooShortForTheLengthField() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertRejected(file, "3 bytes", "too short");
    }

    @Test
    void rejectsOffsetsOutOfRange() throws IOException {
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}", 16),
                "tensor t", "[0, 400]", "outside the 16 data bytes");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 16), "tensor t", "[8, 4]");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 16), "tensor t", "[-4, 0]");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24), "a and b overlap");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16), "overlap");
    }

    @Test
    void rejectsBytesAfterTheLastTensorAndHolesBetweenTensors() throws IOException {
        // The format requires the offsets to cover the data exactly.
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16),
                "8 bytes after the last tensor", "cover 8 of the 16 data bytes");
        assertRejected(raw("{}", 4), "4 bytes after the last tensor");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "data bytes [4, 8) belong to no tensor", "before b");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "[0, 4) belong to no tensor");
        // Exactly covered, in any header order, with an empty tensor anywhere: accepted.
        Path ok = raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],"
                + "\"data_offsets\":[4,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
        assertEquals(List.of("b", "e", "a"), List.copyOf(Safetensors.read(ok).tensors().keySet()));
    }

    @Test
    void offsetsTooLargeForALongSayWhatIsWrongWithThem() throws IOException {
        // 2^62 and more: the JSON reader gives a double, which is no byte offset of this file.
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4611686018427387904,4611686018427387908]}}", 4),
                "tensor t has data_offsets [4611686018427387904, 4611686018427387904]", "not whole byte offsets within the 4 data bytes");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 4), "not whole byte offsets");
    }

    @Test
    void rejectsABytesCountThatDoesNotFitTheShape() throws IOException {
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16),
                "tensor t has 16 bytes but shape [2, 3] needs 24");
    }

    @Test
    void rejectsUnknownAndUnsupportedDtypes() throws IOException {
        assertRejected(raw("{\"t\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor t", "dtype Q7", "F32");
        assertRejected(raw("{\"t\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "dtype F64");
        assertRejected(raw("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype null");
        assertRejected(raw("{\"t\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype I32", "F32 and I64");
        assertRejected(raw("{\"t\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor t has 4 bytes but shape [1] needs 8 (I64)");
    }

    @Test
    void writesAndReadsInt64TensorsExactly() throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("bn.running_mean", new HostTensor(Shape.of(2), new float[] {0.5f, -1}));
        tensors.put("bn.num_batches_tracked", HostTensor.ofLongs(Shape.of(), new long[] {(1L << 53) + 1}));
        tensors.put("counts", HostTensor.ofLongs(Shape.of(3), new long[] {-1, 0, Long.MAX_VALUE}));
        Path file = dir.resolve("bn.safetensors");
        Safetensors.write(file, tensors, Map.of());
        Safetensors.Contents back = Safetensors.read(file);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()));
        HostTensor tracked = back.tensors().get("bn.num_batches_tracked");
        assertEquals("I64", tracked.dtype());
        assertEquals(Shape.of(), tracked.shape());
        assertEquals((1L << 53) + 1, tracked.longValues()[0], "int64 kept exactly, past float and double precision");
        assertArrayEquals(new long[] {-1, 0, Long.MAX_VALUE}, back.tensors().get("counts").longValues());
        assertEquals("F32", back.tensors().get("bn.running_mean").dtype());
        assertEquals(8 + ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() + 8 + 8 + 24,
                Files.size(file));
    }

    @Test
    void rejectsAHeaderThatIsNotJson() throws IOException {
        assertRejected(raw("{\"t\": {\"dtype\": ", 0), "not valid JSON");
        assertRejected(raw("not json at all", 0), "not valid JSON");
        assertRejected(raw("{\"a\":1,\"a\":2}", 0), "not valid JSON", "duplicate key");
        assertRejected(raw("[1, 2]", 0), "not a JSON object");
    }

    @Test
    void rejectsMalformedEntries() throws IOException {
        assertRejected(raw("{\"t\":3}", 0), "entry t is not an object");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor t has no shape");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "bad dimension -1");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4), "bad dimension 2.5");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4), "bad dimension 1");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[100000,100000],\"data_offsets\":[0,4]}}", 4), "too large");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "needs data_offsets");
        assertRejected(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "needs data_offsets");
        assertRejected(raw("{\"__metadata__\":[1]}", 0), "__metadata__ is not an object");
        assertRejected(raw("{\"__metadata__\":{\"epochs\":3}}", 0), "__metadata__ value for epochs is not a string");
    }

    @Test
    void rejectsEveryTruncationOfAValidFile() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("w", new HostTensor(Shape.of(3, 2), new float[] {1, 2, 3, 4, 5, 6}));
        tensors.put("b", new HostTensor(Shape.of(3), new float[] {7, 8, 9}));
        Safetensors.write(good, tensors, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        for (int length = 0; length < bytes.length; length++) {
            Files.write(cut, Arrays.copyOf(bytes, length));
            assertRejected(cut);
        }
        // And the untouched file still reads.
        assertArrayEquals(new float[] {7, 8, 9}, Safetensors.read(good).tensors().get("b").values());
    }
}
