package advtrain;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layering of src/main, read from its {@code import advtrain.} lines: no two packages depend on
 * each other, even through others (no cycle), the {@code Backend} interface's package imports none
 * of the implementations below it, the command line reaches them only through {@code backend.select},
 * and {@code io} knows nothing of models or autograd.
 */
class PackageDependenciesTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?(advtrain\\.[\\w.]+)\\s*;", Pattern.MULTILINE);

    @Test void noPackageCycles() {
        List<List<String>> cycles = cycles(graph());
        assertTrue(cycles.isEmpty(), "package cycles in src/main: " + cycles);
    }

    @Test void backendImportsNoImplementation() {
        Set<String> below = new TreeSet<>();
        for (String target : graph().getOrDefault("advtrain.backend", Set.of())) {
            if (target.startsWith("advtrain.backend.")) below.add(target);
        }
        assertTrue(below.isEmpty(), "advtrain.backend imports its sub-packages " + below
                + ": the interface must not know its implementations or how one is chosen");
    }

    /** The command line chooses a backend through backend.select only; it imports no implementation. */
    @Test void cliChoosesBackendsThroughSelectOnly() {
        Set<String> implementations = new TreeSet<>();
        for (String target : graph().getOrDefault("advtrain.cli", Set.of())) {
            if (target.startsWith("advtrain.backend.") && !target.equals("advtrain.backend.select")) implementations.add(target);
        }
        assertTrue(implementations.isEmpty(), "advtrain.cli imports " + implementations + ": go through advtrain.backend.select");
    }

    @Test void ioKnowsNoModels() {
        Set<String> io = graph().getOrDefault("advtrain.io", Set.of());
        assertTrue(!io.contains("advtrain.nn") && !io.contains("advtrain.autograd"), "advtrain.io imports " + io);
    }

    /** The checker itself finds a cycle when there is one, and only then. */
    @Test void cycleFinderFindsCycles() {
        Map<String, Set<String>> g = new TreeMap<>();
        g.put("a", Set.of("b"));
        g.put("b", Set.of("c"));
        g.put("c", Set.of("a", "d"));
        g.put("d", Set.of());
        assertEquals(List.of(List.of("a", "b", "c")), cycles(g));
        g.put("c", Set.of("d"));
        assertEquals(List.of(), cycles(g));
    }

    /** Package -> the advtrain packages its files import (a class's package, found from the folders). */
    static Map<String, Set<String>> graph() {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                String pkg = SOURCES.relativize(file.getParent()).toString().replace(file.getFileSystem().getSeparator(), ".");
                Set<String> targets = graph.computeIfAbsent(pkg, p -> new TreeSet<>());
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    String target = packageOf(m.group(1));
                    if (!target.equals(pkg)) targets.add(target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(graph.containsKey("advtrain.backend"), "no sources found under " + SOURCES.toAbsolutePath());
        return graph;
    }

    /** The longest prefix of an imported name that is a folder of src/main/java. */
    private static String packageOf(String imported) {
        String name = imported.endsWith(".*") ? imported.substring(0, imported.length() - 2) : imported;
        while (name.contains(".") && !Files.isDirectory(SOURCES.resolve(name.replace('.', '/')))) {
            name = name.substring(0, name.lastIndexOf('.'));
        }
        return name;
    }

    /** Each set of packages that reach each other (a strongly connected component of more than one), sorted. */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        List<List<String>> cycles = new ArrayList<>();
        Set<String> done = new TreeSet<>();
        for (String start : graph.keySet()) {
            if (done.contains(start)) continue;
            Set<String> component = new TreeSet<>();
            for (String other : reachable(graph, start)) {
                if (reachable(graph, other).contains(start)) component.add(other);
            }
            component.add(start);
            done.addAll(component);
            if (component.size() > 1) cycles.add(new ArrayList<>(component));
        }
        return cycles;
    }

    private static Set<String> reachable(Map<String, Set<String>> graph, String from) {
        Set<String> seen = new TreeSet<>();
        List<String> todo = new ArrayList<>(graph.getOrDefault(from, Set.of()));
        while (!todo.isEmpty()) {
            String p = todo.remove(todo.size() - 1);
            if (seen.add(p)) todo.addAll(graph.getOrDefault(p, Set.of()));
        }
        return seen;
    }
}
