package advtrain.io;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    // ---- parsing --------------------------------------------------------------------------------

    @Test
    void parsesObjectsArraysAndScalarsKeepingKeyOrder() {
        Object v = Json.parse(" {\"z\": [1, -2, 3.5, -0.25e-2, 1E3], \"a\": {\"t\": true, \"f\": false, \"n\": null}, \"s\": \"x\"} ");
        Map<?, ?> m = assertInstanceOf(Map.class, v);
        assertEquals(List.of("z", "a", "s"), List.copyOf(m.keySet()));
        assertEquals(List.of(1L, -2L, 3.5, -0.0025, 1000.0), m.get("z"));
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("t", true);
        inner.put("f", false);
        inner.put("n", null);
        assertEquals(inner, m.get("a"));
        assertEquals("x", m.get("s"));
        assertEquals(List.of(), Json.parse("[]"));
        assertEquals(Map.of(), Json.parse("{ }"));
    }

    @Test
    void integersAreLongsAndHugeOnesDoubles() {
        assertEquals(9_007_199_254_740_993L, Json.parse("9007199254740993"));
        assertEquals(Long.class, Json.parse("-42").getClass());
        assertEquals(1.2345678901234567e19, (Double) Json.parse("12345678901234567890"), 1e4);
    }

    @Test
    void decodesEveryEscape() {
        assertEquals("q\" b\\ s/ \b\f\n\r\t é ☃ 😀", Json.parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u2603 \\ud83d\\ude00\""));
    }

    private static void assertInvalid(String text, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text), text);
        assertTrue(e.getMessage().startsWith("invalid JSON at character "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "\"" + text + "\": " + e.getMessage());
    }

    @Test
    void rejectsMalformedTextWithThePosition() {
        assertInvalid("", "unexpected end");
        assertInvalid("{", "unexpected end");
        assertInvalid("[1, 2", "unexpected end");
        assertInvalid("[1,]", "unexpected character ']'");
        assertInvalid("{\"a\" 1}", "expected ':'");
        assertInvalid("{a: 1}", "expected '\"'");
        assertInvalid("tru", "expected true");
        assertInvalid("nul", "expected null");
        assertInvalid("\"abc", "unexpected end");
        assertInvalid("\"a\\x\"", "bad escape \\x");
        assertInvalid("\"\\u12zz\"", "bad \\u escape");
        assertInvalid("\"\\u+12f\"", "bad \\u escape");
        assertInvalid("\"\\u-12f\"", "bad \\u escape");
        assertInvalid("\"\\u１２３４\"", "bad \\u escape");  // full-width digits are not hex digits
        assertInvalid("\"\\u12", "short \\u escape");
        assertInvalid("\"tab\there\"", "control character");
        assertInvalid("1 2", "at character 2: unexpected text after the value");
        assertInvalid("-", "bad number -");
        assertInvalid("1.2.3", "bad number 1.2.3");
        assertInvalid("NaN", "unexpected character 'N'");
        assertInvalid("{\"k\": 1, \"k\": 2}", "duplicate key \"k\"");
    }

    @Test
    void refusesDeepNestingInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        assertInvalid(deep, "nested too deeply");
        String ok = "[".repeat(30) + "]".repeat(30);
        assertInstanceOf(List.class, Json.parse(ok));
    }

    // ---- writing --------------------------------------------------------------------------------

    @Test
    void writesMapsListsAndScalars() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", List.of(1, 2.5, "x"));
        m.put("a", null);
        m.put("t", true);
        m.put("long", 12345678901L);
        assertEquals("{\"b\": [1, 2.5, \"x\"], \"a\": null, \"t\": true, \"long\": 12345678901}", Json.write(m));
    }

    @Test
    void writesNumbersAsJsonCan() {
        assertEquals("3", Json.write(3.0));
        assertEquals("0.1", Json.write(0.1f), "a float is written with float digits, not 0.10000000149011612");
        assertEquals("null", Json.write(Double.NaN), "JSON has no NaN");
        assertEquals("null", Json.write(Float.POSITIVE_INFINITY));
        assertEquals(1e20, (Double) Json.parse(Json.write(1e20)));
        assertEquals(1e-5, (Double) Json.parse(Json.write(1e-5f)), 1e-12);
    }

    @Test
    void escapesStrings() {
        assertEquals("\"q\\\" b\\\\ n\\n r\\r t\\t c\\u0001 é\"", Json.write("q\" b\\ n\n r\r t\t c\u0001 é"));
    }

    @Test
    void writesPrimitiveArrays() {
        assertEquals("[1, 2]", Json.write(new int[] {1, 2}));
        assertEquals("[3, 4]", Json.write(new long[] {3, 4}));
        assertEquals("[0.5, 2]", Json.write(new float[] {0.5f, 2f}));
        assertEquals("[0.25, null]", Json.write(new double[] {0.25, Double.NaN}));
    }

    @Test
    void whatItWritesItParsesBack() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a \"quoted\" \\ name\nwith ☃ and \u0007");
        m.put("numbers", List.of(0L, -1L, 2.75, -3.5e-7, 6.02e23));
        m.put("nested", Map.of("deep", List.of(List.of(), Map.of(), true, false)));
        m.put("nothing", null);
        assertEquals(m, Json.parse(Json.write(m)));
        String text = "{\"k\": [1, 2.5, \"s\", null, true]}";
        assertEquals(text, Json.write(Json.parse(text)));
        assertEquals(Arrays.asList(1L, null), Json.parse(Json.write(Arrays.asList(1, null))));
    }
}
