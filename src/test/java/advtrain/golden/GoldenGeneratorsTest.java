package advtrain.golden;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A missing golden file's message names the script that writes it: that script exists, and writes that file. */
class GoldenGeneratorsTest {
    @Test
    void everyGoldenFileNamesAScriptThatWritesIt() throws IOException {
        Path goldens = Path.of("src/test/resources/goldens");
        try (Stream<Path> files = Files.walk(goldens)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = goldens.relativize(file).toString().replace('\\', '/');
                if (name.startsWith("attack/")) continue;  // read by the attack tests, not through Goldens
                Path script = Path.of("tools", Goldens.generator(name));
                assertTrue(Files.isRegularFile(script), name + ": " + script + " does not exist");
                String leaf = name.substring(name.lastIndexOf('/') + 1);
                assertTrue(Files.readString(script).contains(leaf), script + " does not mention " + leaf);
            }
        }
    }
}
