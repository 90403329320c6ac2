package advtrain.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What this build of advtrain is: its version and the git commit it was built from, both written
 * into the resource advtrain/build.properties at build time (see pom.xml). A build outside a git
 * clone records the commit as "unknown"; a commit with uncommitted changes ends in "-dirty".
 */
public final class BuildInfo {
    private static final String RESOURCE = "/advtrain/build.properties";
    private static final BuildInfo CURRENT = read();

    private final String version, commit;

    private BuildInfo(String version, String commit) {
        this.version = version;
        this.commit = commit;
    }

    /** The build that is running (version and commit "unknown" when the resource is missing: classes compiled without Maven). */
    public static BuildInfo current() { return CURRENT; }

    public String version() { return version; }

    public String commit() { return commit; }

    /** "0.1.0 (commit 0123abcd4567)". */
    public String describe() { return version + " (commit " + commit + ")"; }

    private static BuildInfo read() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + " from the jar", e);
        }
        return new BuildInfo(value(p, "version"), value(p, "commit"));
    }

    private static String value(Properties p, String key) {
        String v = p.getProperty(key, "").trim();
        return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    }
}
