package advtrain.docs;

import advtrain.backend.reference.ReferenceBackend;
import advtrain.cli.Main;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docs/TOUR.md stays true: every file it names exists, every stop's method is still declared in
 * its file, and the FGSM section takes a reader from the command line to the convolution's input
 * gradient in at most {@value #MAX_FGSM_FILES} Java files, the ones on the real call path.
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

    private static String fgsmSection() throws IOException {
        Map<String, String> sections = sections(tour());
        return sections.entrySet().stream().filter(e -> e.getKey().contains("FGSM")).map(Map.Entry::getValue)
                .findFirst().orElseGet(() -> fail("docs/TOUR.md has no section whose heading names FGSM: " + sections.keySet()));
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
        String fgsm = fgsmSection();
        Set<String> files = javaFiles(fgsm);
        assertFalse(stops(fgsm).isEmpty(), "the FGSM section has stops");
        assertTrue(files.size() <= MAX_FGSM_FILES, "the FGSM path names " + files.size() + " Java files: " + files);
        assertTrue(fgsm.contains("./advtrain attack"), "it starts from the command line");
    }

    /**
     * The tour's FGSM files are the real path: the test runs {@code attack --attack fgsm --backend
     * reference} in this JVM, samples the stack of the thread running it until it catches the
     * reference backend's {@code conv2dBackward}, and takes the files of src/main on that stack (the
     * JDK and picocli are not in src/main). They must be the Java files the FGSM section names.
     */
    @Test
    void theFgsmSectionNamesTheFilesOnTheRealCallPath(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model.safetensors");
        try (ReferenceBackend backend = new ReferenceBackend()) {
            ModelFiles.save(new Net(backend, 1), backend, model, Map.of());
        }
        String[] command = {"attack", "--attack", "fgsm", "--backend", "reference", "--model", model.toString(),
                "--data", "src/test/resources/cifar-10-sample", "--limit-test", "16", "--batch", "16"};
        int[] status = {-1};
        Thread attack = new Thread(() -> status[0] = Main.run(command), "fgsm");
        Set<List<String>> paths = new LinkedHashSet<>();
        attack.start();
        while (attack.isAlive()) {
            List<String> path = pathToKernel(attack.getStackTrace());
            if (path != null) paths.add(path);
            LockSupport.parkNanos(200_000);
        }
        attack.join();
        assertEquals(0, status[0], "the attack ran");
        assertFalse(paths.isEmpty(), "the sampler caught conv2dBackward on the stack");
        Set<String> onPath = new LinkedHashSet<>();
        paths.forEach(onPath::addAll);
        assertTrue(onPath.size() <= MAX_FGSM_FILES, "the FGSM path crosses " + onPath.size() + " Java files: " + paths);
        Set<String> named = new LinkedHashSet<>();
        for (Stop stop : stops(fgsmSection())) if (stop.file().endsWith(".java")) named.add(stop.file());
        assertEquals(new TreeSet<>(onPath), new TreeSet<>(named), "the files on the stack at the kernel (" + paths
                + ") against the FGSM section's stops");
    }

    /** The src/main files of the frames from the bottom of the stack up to ReferenceBackend.conv2dBackward, else null. */
    static List<String> pathToKernel(StackTraceElement[] stack) {
        int kernel = -1;
        for (int i = 0; i < stack.length && kernel < 0; i++) {
            if (stack[i].getClassName().equals(ReferenceBackend.class.getName()) && stack[i].getMethodName().equals("conv2dBackward")) kernel = i;
        }
        if (kernel < 0) return null;
        List<String> files = new ArrayList<>();
        for (int i = stack.length - 1; i >= kernel; i--) {
            String className = stack[i].getClassName();
            if (!className.startsWith("advtrain.") || stack[i].getFileName() == null) continue;
            String folder = className.substring(0, className.lastIndexOf('.')).replace('.', '/');
            String file = "src/main/java/" + folder + "/" + stack[i].getFileName();
            if (Files.isRegularFile(Path.of(file)) && !files.contains(file)) files.add(file);
        }
        return files;
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
