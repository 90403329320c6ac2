package advtrain.cli;

import advtrain.io.Json;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/** Runs advtrain's command line in this JVM, capturing stdout, stderr and the exit status. */
public final class Cli {
    private Cli() {}

    public record Run(int status, String out, String err) {
        /** The last line of stdout parsed as the --json object. */
        @SuppressWarnings("unchecked")
        public Map<String, Object> json() {
            List<String> lines = out.lines().toList();
            return (Map<String, Object>) Json.parse(lines.get(lines.size() - 1));
        }

        /** stderr without the progress and backend lines, which are not errors. */
        public List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("advtrain")).toList();
        }

        @Override public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    public static Run run(String... args) {
        return capture(Arrays.toString(args), () -> Main.run(args));
    }

    /** Runs a piece of the command line that returns an exit status (what names it in the log). */
    public static synchronized Run capture(String what, IntSupplier command) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            int status = command.getAsInt();
            o.flush();
            e.flush();
            Run run = new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
            oldErr.println("advtrain " + what + " -> exit " + status);
            return run;
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
