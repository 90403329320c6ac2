package advtrain.cli;

import advtrain.io.BuildInfo;
import advtrain.io.InvalidOptionException;
import advtrain.io.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * advtrain's command line. Each command is one thin class: parse options, call the layers below,
 * print. Errors end as one line on stderr: exit status 2 for bad usage, 1 for a failure at run
 * time; --debug adds the stack trace; under --json the last line of stdout is then
 * {"error": "the same line", "exit": N}.
 */
@Command(name = "advtrain", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Adversarial robustness on CIFAR-10 with a hand-written tensor engine (OpenCL or pure Java).",
        subcommands = {
                DevicesCommand.class,
                DownloadCommand.class,
                TrainCommand.class,
                EvalCommand.class,
                AttackCommand.class,
                SweepCommand.class,
                ReproduceCommand.class,
                DemoCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit status (tests call this directly). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::onFailure);
        cli.setParameterExceptionHandler(Main::onUsageError);
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            return outOfMemory(e, args);
        }
    }

    /**
     * One line, not a stack trace (--debug adds it, as for any failure); files are written
     * atomically, so none is half-written. The error reaches here after the stack unwound, which
     * freed what the failed command held.
     */
    static int outOfMemory(OutOfMemoryError e, String[] args) {
        List<String> given = Arrays.asList(args);
        if (given.contains("--debug")) e.printStackTrace(System.err);
        String message = String.format("out of memory (Java heap limit %d MB); give the JVM more, e.g. "
                + "ADVTRAIN_JAVA_OPTS=-Xmx2g (training on all of CIFAR-10 needs about 0.4 GB)",
                Runtime.getRuntime().maxMemory() >> 20);
        System.err.println("advtrain: " + message);
        System.err.flush();
        return fail(given.contains("--json"), message, 1);
    }

    /** Under --json, ends stdout with the failure as one JSON object; returns the exit status. */
    private static int fail(boolean json, String message, int status) {
        if (json) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("error", message);
            error.put("exit", status);
            System.out.println(Json.write(error));
            System.out.flush();
        }
        return status;
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }

    private static int onUsageError(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        String message = usageMessage(e) + " (see: advtrain " + commandName(e.getCommandLine()) + "--help)";
        err.println("advtrain: " + message);
        err.flush();
        return fail(Arrays.asList(args).contains("--json"), message, 2);
    }

    /** The parser's message; for a mistyped command or option, what was meant, as far as picocli can tell. */
    static String usageMessage(CommandLine.ParameterException e) {
        if (!(e instanceof CommandLine.UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) return e.getMessage();
        String typed = u.getUnmatched().get(0);
        boolean option = typed.startsWith("-");
        boolean command = !option && u.getCommandLine().getParent() == null;
        if (!option && !command) return e.getMessage();
        List<String> suggestions = u.getSuggestions();
        return "unknown " + (option ? "option" : "command") + " '" + typed + "'"
                + (suggestions.isEmpty() ? "" : "; did you mean " + String.join(" or ", suggestions.subList(0, Math.min(3, suggestions.size()))) + "?");
    }

    private static String commandName(CommandLine cl) {
        return cl.getParent() == null ? "" : cl.getCommandName() + " ";
    }

    private static int onFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (matched(parsed, "--debug")) e.printStackTrace(err);
        // Bad usage is exit 2; anything else, an IllegalArgumentException from inside included, is a failure (1).
        int status = e instanceof InvalidOptionException ? 2 : 1;
        String message = e instanceof FileSystemException f ? describe(f)
                : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        err.println("advtrain " + cl.getCommandName() + ": " + message);
        err.flush();
        return fail(matched(parsed, "--json"), message, status);
    }

    private static boolean matched(CommandLine.ParseResult parsed, String option) {
        return parsed.hasMatchedOption(option) || (parsed.subcommand() != null && parsed.subcommand().hasMatchedOption(option));
    }

    /** java.nio's file errors carry only the path as their message: say what went wrong with it. */
    private static String describe(FileSystemException e) {
        String what = e.getReason() != null ? e.getReason()
                : e instanceof NoSuchFileException ? "no such file or folder"
                : e instanceof AccessDeniedException ? "permission denied"
                : e instanceof FileAlreadyExistsException ? "already exists"
                : e instanceof NotDirectoryException ? "not a folder"
                : e.getClass().getSimpleName();
        return (e.getFile() == null ? "" : e.getFile() + (e.getOtherFile() == null ? "" : " -> " + e.getOtherFile()) + ": ") + what;
    }

    /** Bad input found after parsing (an option value out of range, say): exit status 2. */
    public static final class UsageError extends InvalidOptionException {
        public UsageError(String message) { super(message); }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            return new String[] {"advtrain " + BuildInfo.current().describe() + ", Java " + Runtime.version()};
        }
    }
}
