package advtrain.train;

import advtrain.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * RUN/metrics.csv: one row per completed epoch, rewritten whole (temp file, rename) after each.
 * Numbers are written with Locale.ROOT, so a decimal point whatever the user's locale.
 */
final class MetricsFile {
    private final Path file;
    private final List<String> columns;
    private final List<List<String>> rows = new ArrayList<>();

    MetricsFile(Path file, List<String> columns) {
        this.file = file;
        this.columns = List.copyOf(columns);
    }

    List<String> columns() { return columns; }

    /**
     * Keeps the rows of an existing file for epochs 1..epochsCompleted, and adds the last one from
     * {@code lastRow} (the row the checkpoint kept, as {@link #format} wrote it; null: none) when a
     * run stopped after its checkpoint but before this file had the row.
     */
    void keepExisting(int epochsCompleted, String lastRow) throws IOException {
        if (Files.isRegularFile(file)) readExisting(epochsCompleted);
        boolean hasLast = !rows.isEmpty() && rows.get(rows.size() - 1).get(0).trim().equals(Integer.toString(epochsCompleted));
        if (epochsCompleted > 0 && !hasLast && lastRow != null) {
            List<String> row = Arrays.asList(lastRow.split(",", -1));
            if (row.size() == columns.size() && row.get(0).equals(Integer.toString(epochsCompleted))) rows.add(new ArrayList<>(row));
        }
        if (Files.isRegularFile(file) || !rows.isEmpty()) write();
    }

    private void readExisting(int epochsCompleted) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty()) return;
        List<String> header = Arrays.asList(lines.get(0).split(",", -1));
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String[] fields = line.split(",", -1);
            int epoch;
            try {
                epoch = Integer.parseInt(fields[0].trim());
            } catch (NumberFormatException e) {
                continue;  // not a row of ours
            }
            if (epoch < 1 || epoch > epochsCompleted) continue;
            List<String> row = new ArrayList<>();
            for (String column : columns) {
                int at = header.indexOf(column);
                row.add(at >= 0 && at < fields.length ? fields[at] : "");
            }
            rows.add(row);
        }
    }

    /** A row as the line this file writes for it. */
    String format(Map<String, Object> values) {
        List<String> row = new ArrayList<>();
        for (String column : columns) row.add(format(values.get(column)));
        return String.join(",", row);
    }

    /** Adds a line made by {@link #format(Map)} and rewrites the file. */
    void add(String line) throws IOException {
        rows.add(new ArrayList<>(Arrays.asList(line.split(",", -1))));
        write();
    }

    /** The last row as column → text, or null when there is none. */
    Map<String, String> lastRow() {
        if (rows.isEmpty()) return null;
        Map<String, String> m = new LinkedHashMap<>();
        List<String> row = rows.get(rows.size() - 1);
        for (int i = 0; i < columns.size(); i++) m.put(columns.get(i), row.get(i));
        return m;
    }

    int size() { return rows.size(); }

    private void write() throws IOException {
        StringBuilder out = new StringBuilder(String.join(",", columns)).append('\n');
        for (List<String> row : rows) out.append(String.join(",", row)).append('\n');
        AtomicFiles.writeString(file, out.toString());
    }

    private static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? String.format(Locale.ROOT, "%.6f", d) : "";
        }
        return v.toString();
    }
}
