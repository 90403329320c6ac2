package advtrain.data;

import advtrain.io.InputFiles;
import advtrain.io.InvalidOptionException;
import advtrain.io.Progress;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Fetches the official CIFAR-10 binary archive, checks its MD5, and extracts it safely into
 * DIR/cifar-10-batches-bin.
 *
 * <p>Safety: the archive's member names are only compared with the eight names the official
 * archive holds; the file written for a member is a name from that list, in a temporary folder of
 * ours, so no member can choose a path (no tar-slip through "../", absolute paths or links). A member
 * whose name tries to leave the folder makes the whole archive refused. Each data file is checked
 * (size, labels) before the temporary folder is renamed into place, so DIR/cifar-10-batches-bin is
 * either complete or absent, never half-written.
 */
public final class Download {
    public static final String OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    public static final String OFFICIAL_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
    /** The members extracted, all under cifar-10-batches-bin/ in the archive. */
    static final List<String> OPTIONAL_MEMBERS = List.of("batches.meta.txt", "readme.html");
    private static final long OPTIONAL_MAX_BYTES = 1 << 20;

    /** A failed download or a refused archive; the message says what happened and what to do. */
    public static final class DownloadException extends IOException {
        public DownloadException(String message) { super(message); }
    }

    /**
     * @param path       the folder holding the data files
     * @param downloaded false when the data was already there and nothing was done
     * @param verified   whether the archive's MD5 matched the expected one
     */
    public record Result(Path path, boolean downloaded, boolean verified, String md5, long archiveBytes) {}

    private final String expectedMd5;
    private final boolean quiet;
    private final PrintStream log;

    /**
     * @param expectedMd5 the MD5 the archive must have (the official one, unless testing)
     * @param log         where to say what happens (null: nowhere); progress goes to stderr unless quiet
     */
    public Download(String expectedMd5, boolean quiet, PrintStream log) {
        if (!expectedMd5.matches("[0-9a-fA-F]{32}")) throw new InvalidOptionException("--md5 must be 32 hex digits, got '" + expectedMd5 + "'");
        this.expectedMd5 = expectedMd5.toLowerCase();
        this.quiet = quiet;
        this.log = log;
    }

    /** The folder the data ends up in. */
    public static Path target(Path dataDir) { return dataDir.resolve(DataLocator.BATCHES_DIR); }

    /**
     * Checks whether DIR/cifar-10-batches-bin is there already: returns true when complete, fails
     * when it holds something else (unless {@code force}, which replaces it).
     */
    public static boolean alreadyThere(Path dataDir, boolean force) throws DownloadException {
        Path target = target(dataDir);
        if (!Files.exists(target) || force) return false;
        if (!Files.isDirectory(target)) throw new DownloadException(target + " exists and is not a folder; remove it or use --force");
        List<String> missing = Cifar10.missingFiles(target);
        if (missing.isEmpty()) return true;
        throw new DownloadException(target + " exists but lacks " + String.join(", ", missing) + "; remove it or rerun with --force to replace it");
    }

    /** Downloads {@code url} (http or https) and installs it into dataDir. */
    public Result fetch(URI url, Path dataDir, boolean force) throws IOException {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase();
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new InvalidOptionException("--url must be an http(s) address, got '" + url + "' (for a file on disk use --archive)");
        }
        Files.createDirectories(dataDir);
        Path archive = Files.createTempFile(dataDir, ".cifar-10-binary.", ".tar.gz.part");
        try {
            say("downloading " + url);
            String md5 = download(url, archive);
            return install(archive, md5, dataDir, force);
        } finally {
            Files.deleteIfExists(archive);
        }
    }

    /** Installs an archive already on disk (downloaded by hand, say). */
    public Result installFile(Path archive, Path dataDir, boolean force) throws IOException {
        try {
            InputFiles.requireRegularFile(archive, "--archive", "");
        } catch (java.io.FileNotFoundException e) {
            throw new DownloadException(e.getMessage());
        }
        Files.createDirectories(dataDir);
        MessageDigest digest = md5();
        try (InputStream in = Files.newInputStream(archive)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return install(archive, HexFormat.of().formatHex(digest.digest()), dataDir, force);
    }

    private Result install(Path archive, String md5, Path dataDir, boolean force) throws IOException {
        long bytes = Files.size(archive);
        if (!md5.equals(expectedMd5)) {
            throw new DownloadException("the archive's MD5 is " + md5 + ", expected " + expectedMd5 + " (" + bytes
                    + " bytes): the download is corrupt or is not the CIFAR-10 binary archive; nothing was extracted; try again");
        }
        say("MD5 " + md5 + " verified" + (expectedMd5.equals(OFFICIAL_MD5) ? " (the official archive)" : " (as given by --md5, not the official archive's)"));
        Path target = target(dataDir);
        Path staging = Files.createTempDirectory(dataDir, "." + DataLocator.BATCHES_DIR + ".");
        try {
            try {  // a temporary folder is private (rwx------); the data folder it becomes need not be
                Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: its defaults apply
            }
            extract(archive, staging);
            for (String name : Cifar10.allFiles()) Cifar10.check(staging.resolve(name + ".bin"));
            moveIntoPlace(staging, target, force);
        } finally {
            deleteTree(staging);
        }
        say("CIFAR-10 is in " + target);
        return new Result(target, true, true, md5, bytes);
    }

    /**
     * Streams the body of url into archive, computing its MD5 on the way. A connection that takes
     * over 30 s to open, or that stalls for 60 s, fails rather than hangs; redirects are followed
     * only within the same protocol (never from https down to http).
     */
    private String download(URI url, Path archive) throws IOException {
        MessageDigest digest = md5();
        long got = 0, expected = -1;
        HttpURLConnection connection = null;
        try {
            connection = (HttpURLConnection) url.toURL().openConnection();
            connection.setConnectTimeout(30_000);
            connection.setReadTimeout(60_000);
            connection.setInstanceFollowRedirects(true);
            int status = connection.getResponseCode();
            if (status != 200) {
                throw new DownloadException("cannot download " + url + ": the server answered HTTP " + status
                        + (connection.getResponseMessage() == null ? "" : " " + connection.getResponseMessage()));
            }
            expected = connection.getContentLengthLong();
            try (InputStream body = connection.getInputStream();
                 OutputStream out = Files.newOutputStream(archive);
                 Progress progress = Progress.start("download", expected > 0 ? expected : 170_498_071L, quiet)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = body.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    digest.update(buffer, 0, n);
                    got += n;
                    progress.step(n, null);
                }
            }
        } catch (DownloadException e) {
            throw e;
        } catch (IOException e) {
            throw new DownloadException((got == 0 ? "cannot download " + url : "the download of " + url + " broke off after " + got + " bytes")
                    + " (" + e + "); check the network connection and try again, "
                    + "or fetch the archive another way and run `./advtrain download --archive FILE`");
        } finally {
            if (connection != null) connection.disconnect();
        }
        if (expected >= 0 && got != expected) {
            throw new DownloadException("the download of " + url + " is incomplete: " + got + " of " + expected + " bytes; try again");
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Writes the expected members of the archive into staging, under names from our own list. */
    static void extract(Path archive, Path staging) throws IOException {
        String folder = DataLocator.BATCHES_DIR + "/";
        Set<String> wanted = new LinkedHashSet<>();
        for (String name : Cifar10.allFiles()) wanted.add(name + ".bin");
        wanted.addAll(OPTIONAL_MEMBERS);
        Set<String> seen = new LinkedHashSet<>();
        List<String> skipped = new ArrayList<>();
        try (InputStream gz = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16), 1 << 16)) {
            TarReader tar = new TarReader(gz);
            for (TarReader.Entry entry; (entry = tar.next()) != null; ) {
                String name = entry.name();
                while (name.startsWith("./")) name = name.substring(2);
                refuseEscapes(entry, name);
                if (entry.isDirectory() && (name.equals(folder) || name.equals(DataLocator.BATCHES_DIR))) continue;
                String member = name.startsWith(folder) ? name.substring(folder.length()) : null;
                if (member == null || !wanted.contains(member)) {
                    skipped.add(name);
                    continue;
                }
                if (!entry.isFile()) throw new DownloadException("refusing the archive: member " + name + " is not a regular file (type '" + entry.type() + "')");
                if (!seen.add(member)) throw new DownloadException("refusing the archive: member " + name + " appears twice");
                boolean data = member.endsWith(".bin");
                if (data && entry.size() != Cifar10.FILE_BYTES) {
                    throw new DownloadException("refusing the archive: member " + name + " has " + entry.size() + " bytes, expected " + Cifar10.FILE_BYTES);
                }
                if (!data && entry.size() > OPTIONAL_MAX_BYTES) {
                    throw new DownloadException("refusing the archive: member " + name + " has " + entry.size() + " bytes, more than a text file should");
                }
                // member equals one of our eight names, so the path is ours: the archive chooses nothing.
                Path file = staging.resolve(member);
                try (OutputStream out = Files.newOutputStream(file)) {
                    tar.copyTo(out);
                }
            }
            // Read to the end of the gzip stream, so that its CRC and length are checked too.
            byte[] rest = new byte[8192];
            while (gz.read(rest) >= 0) { /* padding after the end-of-archive blocks */ }
        } catch (TarReader.TarException e) {
            throw new DownloadException("refusing the archive: " + e.getMessage());
        } catch (ZipException e) {
            throw new DownloadException("refusing the archive: corrupt gzip data (" + e.getMessage() + ")");
        } catch (EOFException e) {
            throw new DownloadException("refusing the archive: the gzip stream is truncated (" + e.getMessage() + ")");
        }
        List<String> missing = new ArrayList<>();
        for (String name : Cifar10.allFiles()) if (!seen.contains(name + ".bin")) missing.add(folder + name + ".bin");
        if (!missing.isEmpty()) throw new DownloadException("refusing the archive: it lacks " + String.join(", ", missing));
        if (!skipped.isEmpty() && skipped.size() <= 5) System.err.println("download: skipped unexpected archive members " + skipped);
        else if (!skipped.isEmpty()) System.err.println("download: skipped " + skipped.size() + " unexpected archive members");
    }

    /** A name that could point outside the folder (absolute, "..", a drive, a backslash) refuses the whole archive. */
    private static void refuseEscapes(TarReader.Entry entry, String name) throws DownloadException {
        List<String> names = new ArrayList<>(List.of(name));
        if (!entry.linkName().isEmpty()) names.add(entry.linkName());
        for (String n : names) {
            boolean escapes = n.startsWith("/") || n.contains("\\") || n.matches("^[A-Za-z]:.*") || n.indexOf('\0') >= 0;
            for (String part : n.split("/")) if (part.equals("..")) escapes = true;
            if (escapes) {
                throw new DownloadException("refusing the archive: member '" + name + "'" + (n.equals(name) ? "" : " links to '" + n + "', which")
                        + " points outside the target folder (a tar-slip attempt or not the CIFAR-10 archive); nothing was extracted");
            }
        }
    }

    private static void moveIntoPlace(Path staging, Path target, boolean force) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            if (!force) throw new DownloadException(target + " appeared while downloading; remove it or use --force");
            old = Files.createTempDirectory(target.getParent(), "." + DataLocator.BATCHES_DIR + ".old.");
            Files.delete(old);
            Files.move(target, old);
        }
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staging, target);
        }
        if (old != null) deleteTree(old);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no MD5", e);
        }
    }

    private void say(String line) {
        if (log != null) log.println(line);
    }
}
