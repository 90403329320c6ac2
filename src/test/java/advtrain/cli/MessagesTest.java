package advtrain.cli;

import advtrain.io.BuildInfo;
import advtrain.train.TrainingRun;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The command line's messages and help: what a newcomer reads first. */
class MessagesTest {

    @Test
    void aMistypedCommandOrOptionGetsDidYouMean() {
        Cli.Run command = Cli.run("trian");
        assertEquals(2, command.status(), command.toString());
        assertTrue(command.err().contains("unknown command 'trian'; did you mean train?"), command.err());
        Cli.Run option = Cli.run("train", "--out", "unused", "--epoch", "2");
        assertEquals(2, option.status(), option.toString());
        assertTrue(option.err().contains("unknown option '--epoch'; did you mean --epochs?"), option.err());
    }

    @Test
    void trainHelpGivesTheSchedulesFormulasAndAMistypedOneGetsDidYouMean() {
        String help = Cli.run("train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--weight-decay=W") && help.contains("PyTorch's weight_decay: g = grad + W*w (default: 0)"), help);
        assertTrue(help.contains("onecycle (np.interp(t, [0, epochs*2//5, epochs], [0, LR, 0])"), help);
        assertTrue(help.contains("cosine (LR * 0.5 * (1 + cos(pi * t / epochs))"), help);
        assertTrue(help.contains("t = epoch + (batch+1)/batches"), help);
        Cli.Run typo = Cli.run("train", "--out", "unused", "--lr-schedule", "cosin");
        assertEquals(2, typo.status(), typo.toString());
        assertTrue(typo.err().contains("did you mean cosine?"), typo.err());
    }

    @Test
    void demoHelpDescribesDemoAlone() {
        Cli.Run help = Cli.run("demo", "--help");
        assertEquals(0, help.status());
        assertFalse(help.out().contains("with --quick"), "demo has no --quick option, so no default depends on it:\n" + help.out());
        assertTrue(help.out().contains("epochs of every model (default: 3)"), help.out());
        assertTrue(help.out().replaceAll("\\s+", " ").contains("use only the first N training images (default: 5,000)"), help.out());
        Cli.Run reproduce = Cli.run("reproduce", "--help");
        assertTrue(reproduce.out().contains("(default: 20, or 3 with --quick)"), reproduce.out());
    }

    @Test
    void commandsThatReadOnlyTestImagesDoNotOfferLimitTrain() {
        for (String command : new String[] {"eval", "attack", "sweep"}) {
            Cli.Run help = Cli.run(command, "--help");
            assertEquals(0, help.status());
            assertFalse(help.out().contains("--limit-train"), command + " lists --limit-train:\n" + help.out());
            assertTrue(help.out().contains("--limit-test"), command);
        }
        assertTrue(Cli.run("train", "--help").out().contains("--limit-train"));
    }

    @Test
    void everyCommandsHelpIsFormattedWithoutWarnings() {
        // A lone % in a description ("95 % Wilson") is a format error to picocli: it warns on
        // stderr and prints the description with its %n line breaks unreplaced.
        for (String command : new String[] {"train", "eval", "attack", "sweep", "reproduce", "demo", "devices", "download"}) {
            Cli.Run help = Cli.run(command, "--help");
            assertEquals(0, help.status(), command);
            assertFalse(help.err().contains("picocli WARN"), command + " --help warns:\n" + help.err());
            assertFalse(help.out().contains("%n"), command + " --help has an unreplaced %n:\n" + help.out());
        }
        assertTrue(Cli.run("attack", "--help").out().contains("95 % Wilson score interval"));
    }

    @Test
    void versionNamesTheVersionAndTheCommit() {
        Cli.Run version = Cli.run("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().matches("(?s)advtrain \\d+\\.\\d+\\.\\d+\\S* \\(commit ([0-9a-f]{7,}(-dirty)?|unknown)\\), Java .*"),
                version.out());
        assertFalse(BuildInfo.current().version().equals("unknown"), "the build wrote advtrain/build.properties");
        assertEquals(BuildInfo.current().commit(), TrainingRun.versions().get("commit"), "run.json records the commit");
        assertEquals(BuildInfo.current().version(), TrainingRun.versions().get("advtrain"));
    }

    @Test
    void outOfMemoryIsOneLineWithItsStackTraceUnderDebug() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        Cli.Run plain = Cli.capture("out of memory", () -> Main.outOfMemory(oom, new String[] {"attack"}));
        assertEquals(1, plain.status());
        assertEquals(1, plain.errorLines().size(), plain.toString());
        assertTrue(plain.err().startsWith("advtrain: out of memory (Java heap limit "), plain.err());
        assertFalse(plain.err().contains("\tat "), "no stack trace");
        assertEquals("", plain.out());

        Cli.Run debug = Cli.capture("out of memory --debug --json", () -> Main.outOfMemory(oom, new String[] {"attack", "--debug", "--json"}));
        assertEquals(1, debug.status());
        assertTrue(debug.err().contains("java.lang.OutOfMemoryError: Java heap space") && debug.err().contains("\tat "),
                "--debug shows the stack trace: " + debug.err());
        assertEquals(1, debug.errorLines().size(), debug.toString());
        assertEquals(1, ((Number) debug.json().get("exit")).intValue());
        assertTrue(debug.json().get("error").toString().startsWith("out of memory (Java heap limit "), debug.out());
    }

    @Test
    void badFigureOptionsAreUsageErrors() {
        Cli.Run format = Cli.run("sweep", "--model", "m.safetensors", "--out", "unused", "--format", "gif");
        assertEquals(2, format.status(), format.toString());
        assertTrue(format.err().contains("--format 'gif' is not a figure format: use png, svg or pdf"), format.err());
    }
}
