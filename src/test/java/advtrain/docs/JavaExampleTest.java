package advtrain.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * README's "Use from Java" shows the program that CI compiles and runs against the installed jar
 * (examples/java-library): the two must be the same text, and the example's pom must name the
 * coordinates this build installs.
 */
class JavaExampleTest {
    static final Path EXAMPLE = Path.of("examples", "java-library");

    @Test
    void readmeShowsTheExampleThatCiRuns() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("\n## Use from Java\n");
        assertTrue(section >= 0, "README has a section \"Use from Java\"");
        int start = readme.indexOf("```java\n", section), end = readme.indexOf("```\n", start + 1);
        assertTrue(start > 0 && end > start, "the section has a java code block");
        String shown = readme.substring(start + "```java\n".length(), end);
        String program = Files.readString(EXAMPLE.resolve(Path.of("src", "main", "java", "RobustAccuracy.java")));
        assertEquals(program, shown, "README's example and examples/java-library/src/main/java/RobustAccuracy.java differ");
    }

    @Test
    void theExampleDependsOnTheCoordinatesThisBuildInstalls() throws IOException {
        String pom = Files.readString(Path.of("pom.xml")), examplePom = Files.readString(EXAMPLE.resolve("pom.xml"));
        String coordinates = "<groupId>" + tag(pom, "groupId") + "</groupId>\n      <artifactId>" + tag(pom, "artifactId")
                + "</artifactId>\n      <version>" + tag(pom, "version") + "</version>";
        assertTrue(examplePom.contains(coordinates), "examples/java-library/pom.xml depends on " + coordinates);
        assertTrue(tag(pom, "groupId").contains("."), "the groupId is in reverse-DNS form: " + tag(pom, "groupId"));
    }

    /** The first element of that name after the parent section (the project's own coordinates). */
    private static String tag(String pom, String name) {
        int from = pom.indexOf("</modelVersion>");
        int start = pom.indexOf("<" + name + ">", from) + name.length() + 2;
        return pom.substring(start, pom.indexOf("</" + name + ">", start));
    }
}
