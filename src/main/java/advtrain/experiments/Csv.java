package advtrain.experiments;

import advtrain.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures' CSV files: a header and rows, numbers with a decimal point whatever the locale, written whole. */
final class Csv {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    Csv(String... header) { this.header = List.of(header); }

    Csv row(Object... values) {
        if (values.length != header.size()) throw new IllegalArgumentException(values.length + " values for " + header);
        List<String> row = new ArrayList<>();
        for (Object v : values) row.add(format(v));
        rows.add(row);
        return this;
    }

    void write(Path file) throws IOException {
        StringBuilder s = new StringBuilder(String.join(",", header)).append('\n');
        for (List<String> row : rows) s.append(String.join(",", row)).append('\n');
        AtomicFiles.writeString(file, s.toString());
    }

    static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Float f) return Double.isFinite(f) ? Plan.fmt(f) : (Float.isNaN(f) ? "" : (f > 0 ? "inf" : "-inf"));
        if (v instanceof Double d) {
            if (Double.isNaN(d)) return "";
            if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
            return String.format(Locale.ROOT, "%.6g", d);
        }
        String s = v.toString();
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** A CSV written by a training run (metrics.csv): rows as column → text. Plain fields only. */
    static List<Map<String, String>> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Map<String, String>> out = new ArrayList<>();
        if (lines.isEmpty()) return out;
        String[] names = lines.get(0).split(",", -1);
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String[] fields = line.split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) row.put(names[i], i < fields.length ? fields[i] : "");
            out.add(row);
        }
        return out;
    }
}
