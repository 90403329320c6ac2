package advtrain.cli;

import advtrain.data.DataLocator;
import advtrain.data.Download;
import advtrain.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "download", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fetch the official CIFAR-10 binary archive, verify its MD5 and extract it to DIR/cifar-10-batches-bin.",
                "Only the archive's expected files are extracted, into a temporary folder renamed into place at the end."})
final class DownloadCommand implements Callable<Integer> {
    static final String URL_ENV = "ADVTRAIN_CIFAR10_URL";

    @Option(names = "--data", paramLabel = "DIR", description = "where to put cifar-10-batches-bin/ (default: data/ in the project)")
    Path data;

    @Option(names = "--url", paramLabel = "URL",
            description = "where to fetch the archive (default: $" + URL_ENV + ", else " + Download.OFFICIAL_URL + ")")
    String url;

    @Option(names = "--md5", paramLabel = "HEX", defaultValue = Download.OFFICIAL_MD5,
            description = "the MD5 the archive must have (default: ${DEFAULT-VALUE}, the official archive's)")
    String md5;

    @Option(names = "--archive", paramLabel = "FILE",
            description = "install this archive from disk instead of downloading it (still MD5-checked)")
    Path archive;

    @Option(names = "--force", description = "replace DIR/cifar-10-batches-bin if it exists")
    boolean force;

    @Option(names = "--json", description = "print one JSON object as the last line of stdout")
    boolean json;

    @Option(names = "--debug", description = "show stack traces on errors")
    boolean debug;

    @Override public Integer call() throws Exception {
        Path dir = data != null ? data : DataLocator.projectRoot().resolve("data");
        Download download = new Download(md5, false, System.out);
        URI source = archive == null ? uri() : null;
        Download.Result result;
        if (Download.alreadyThere(dir, force)) {
            System.out.println("CIFAR-10 is already in " + Download.target(dir) + "; nothing to do (--force downloads it again)");
            result = new Download.Result(Download.target(dir), false, false, null, 0);
        } else if (archive != null) {
            result = download.installFile(archive, dir, force);
        } else {
            result = download.fetch(source, dir, force);
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("path", result.path().toString());
            out.put("verified", result.verified());
            out.put("downloaded", result.downloaded());
            out.put("md5", result.md5());
            out.put("source", archive != null ? archive.toString() : source.toString());
            System.out.println(Json.write(out));
        }
        return 0;
    }

    private URI uri() {
        String text = url != null ? url : System.getenv(URL_ENV) != null && !System.getenv(URL_ENV).isBlank()
                ? System.getenv(URL_ENV) : Download.OFFICIAL_URL;
        try {
            return new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new Main.UsageError("--url '" + text + "' is not a valid address (" + e.getReason() + ")");
        }
    }
}
