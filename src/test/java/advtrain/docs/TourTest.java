package advtrain.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docs/TOUR.md stays true: every file it names exists, every stop's method is still declared in
 * its file, and the FGSM section takes a reader from the command line to the convolution's input
 * gradient in at most {@value #MAX_FGSM_FILES} Java files.
 *
 * <p>A stop is written {@code `path/File.java` · `method`}, or {@code `Type.method`} for a method of a
 * nested type (checked after that type's declaration), or {@code `path/file.cl` · `kernel`} for an
 * OpenCL kernel (checked as {@code __kernel void kernel(}); any other repository path in back-quotes
 * ({@code `src/...`}, {@code `benchmarks/...`}, {@code `docs/...`}, {@code `tools/...`}) must exist too.
 */
class TourTest {
    static final Path TOUR = Path.of("docs", "TOUR.md");
    static final int MAX_FGSM_FILES = 6;

    private static final Pattern STOP = Pattern.compile("`([\\w./-]+\\.(?:java|cl))`\\s*·\\s*`((?:\\w+\\.)?\\w+)`");
    private static final Pattern REPO_PATH = Pattern.compile("`((?:src|benchmarks|docs|tools)/[\\w./-]*[\\w/])`");
    private static final Pattern JAVA_FILE = Pattern.compile("`([\\w./-]+\\.java)`");

    record Stop(String file, String method) {}

    /** The tour's sections: each "## " heading and the lines under it, in order. */
    static Map<String, String> sections(String markdown) {
        Map<String, String> sections = new LinkedHashMap<>();
        String heading = "";
        StringBuilder body = new StringBuilder();
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("## ")) {
                sections.put(heading, body.toString());
                heading = line.substring(3).trim();
                body.setLength(0);
            } else {
                body.append(line).append('\n');
            }
        }
        sections.put(heading, body.toString());
        return sections;
    }

    static List<Stop> stops(String text) {
        List<Stop> stops = new ArrayList<>();
        Matcher m = STOP.matcher(text);
        while (m.find()) stops.add(new Stop(m.group(1), m.group(2)));
        return stops;
    }

    static Set<String> javaFiles(String text) {
        Set<String> files = new LinkedHashSet<>();
        Matcher m = JAVA_FILE.matcher(text);
        while (m.find()) files.add(m.group(1));
        return files;
    }

    /**
     * Whether the source declares a method (or constructor) of this name: a line that opens with
     * modifiers or a type, then the name and "(", not a call (after "return", "new", ".", "=").
     */
    static boolean declares(String source, String method) {
        Pattern declaration = Pattern.compile("(?m)^\\s*(?:@\\w+(?:\\([^)]*\\))?\\s+)*"
                + "(?:(?:public|protected|private|static|final|abstract|default|synchronized|native)\\s+)*"
                + "(?:<[^>]+>\\s+)?(?!return\\b|new\\b|throw\\b|else\\b)[\\w.]+(?:<[^;{}()]*>)?(?:\\[\\])*\\s+"
                + Pattern.quote(method) + "\\s*\\(");
        return declaration.matcher(source).find();
    }

    /** {@link #declares} for "method", or for "Type.method": the method declared after type Type's declaration. */
    static boolean declaresIn(String source, String name) {
        int dot = name.indexOf('.');
        if (dot < 0) return declares(source, name);
        Matcher type = Pattern.compile("\\b(?:class|interface|record|enum)\\s+" + Pattern.quote(name.substring(0, dot)) + "\\b")
                .matcher(source);
        return type.find() && declares(source.substring(type.start()), name.substring(dot + 1));
    }

    private static String tour() throws IOException {
        assertTrue(Files.isRegularFile(TOUR), TOUR + " exists");
        return Files.readString(TOUR);
    }

    @Test
    void everyStopNamesAFileThatExistsAndAMethodItDeclares() throws IOException {
        List<Stop> stops = stops(tour());
        assertTrue(stops.size() >= 10, "the tour has its stops (found " + stops.size() + ")");
        List<String> broken = new ArrayList<>();
        for (Stop stop : stops) {
            Path file = Path.of(stop.file());
            if (!Files.isRegularFile(file)) {
                broken.add(stop.file() + " does not exist");
            } else if (stop.file().endsWith(".cl")) {
                if (!Pattern.compile("__kernel\\s+void\\s+" + Pattern.quote(stop.method()) + "\\s*\\(").matcher(Files.readString(file)).find()) {
                    broken.add(stop.file() + " has no kernel " + stop.method());
                }
            } else if (!declaresIn(Files.readString(file), stop.method())) {
                broken.add(stop.file() + " declares no method " + stop.method());
            }
        }
        assertEquals(List.of(), broken, "docs/TOUR.md names what is no longer there");
    }

    @Test
    void everyRepositoryPathItMentionsExists() throws IOException {
        Matcher m = REPO_PATH.matcher(tour());
        List<String> missing = new ArrayList<>();
        int paths = 0;
        while (m.find()) {
            paths++;
            if (!Files.exists(Path.of(m.group(1)))) missing.add(m.group(1));
        }
        assertTrue(paths > 0);
        assertEquals(List.of(), missing, "docs/TOUR.md mentions paths that do not exist");
    }

    @Test
    void theFgsmPathCrossesAtMostSixJavaFiles() throws IOException {
        Map<String, String> sections = sections(tour());
        String fgsm = sections.entrySet().stream().filter(e -> e.getKey().contains("FGSM")).map(Map.Entry::getValue)
                .findFirst().orElseGet(() -> fail("docs/TOUR.md has no section whose heading names FGSM: " + sections.keySet()));
        Set<String> files = javaFiles(fgsm);
        assertFalse(stops(fgsm).isEmpty(), "the FGSM section has stops");
        assertTrue(files.size() <= MAX_FGSM_FILES, "the FGSM path names " + files.size() + " Java files: " + files);
        assertTrue(fgsm.contains("./advtrain attack"), "it starts from the command line");
    }

    @Test
    void theCheckerTellsDeclarationsFromCalls() {
        String source = """
                class A {
                    @Override public Integer call() throws Exception {
                        return conv2dBackward(1);
                    }
                    static <T> List<T> listOf(T t) { return null; }
                    void conv2dInputGrad(Tensor a,
                                         Tensor b) {}
                    int x = other.step(2);
                }
                """;
        assertTrue(declares(source, "call"));
        assertTrue(declares(source, "listOf"));
        assertTrue(declares(source, "conv2dInputGrad"));
        assertFalse(declares(source, "conv2dBackward"), "a call after return is not a declaration");
        assertFalse(declares(source, "step"), "a call on an object is not a declaration");
        assertTrue(declaresIn(source, "A.call"));
        assertFalse(declaresIn(source, "B.call"), "no type B");
        assertEquals(List.of(new Stop("src/A.java", "run"), new Stop("src/B.java", "Inner.step")),
                stops("1. `src/A.java` · `run`: what it does. 2. `src/B.java` · `Inner.step`: more"));
    }
}
