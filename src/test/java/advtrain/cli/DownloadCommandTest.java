package advtrain.cli;

import advtrain.data.Cifar10;
import advtrain.data.DataLocator;
import advtrain.data.Dataset;
import advtrain.data.TestArchives;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `download` against a made-up archive served on 127.0.0.1 (this sandbox cannot reach the real
 * server): a good archive, a wrong MD5, hostile member names, truncated archives, server errors.
 */
class DownloadCommandTest {
    @TempDir static Path shared;
    private static Path good;
    private static byte[] goodBytes;
    private static HttpServer server;
    private static String base;
    private static ServerSocket cutServer;

    @BeforeAll
    static void serve() throws Exception {
        good = shared.resolve("good.tar.gz");
        TestArchives.official(good);
        goodBytes = Files.readAllBytes(good);
        byte[] truncated = Arrays.copyOf(goodBytes, goodBytes.length * 6 / 10);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        serveBytes("/good.tar.gz", goodBytes, goodBytes.length);
        serveBytes("/truncated.tar.gz", truncated, truncated.length);
        server.createContext("/missing.tar.gz", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        cutServer = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread cutter = new Thread(() -> {  // announces the whole archive, sends 60 % of it, hangs up
            while (!cutServer.isClosed()) {
                try (Socket socket = cutServer.accept()) {
                    socket.getInputStream().read(new byte[4096]);
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + goodBytes.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(truncated);
                    out.flush();
                } catch (IOException e) {
                    // closed at the end of the tests, or the client went away
                }
            }
        }, "cut-server");
        cutter.setDaemon(true);
        cutter.start();
    }

    private static void serveBytes(String path, byte[] body, long announced) {
        server.createContext(path, exchange -> {
            exchange.sendResponseHeaders(200, announced);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            } catch (IOException e) {
                // the client gave up: nothing to do
            }
            exchange.close();
        });
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop(0);
        try {
            if (cutServer != null) cutServer.close();
        } catch (IOException e) {
            // already closed
        }
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private static List<String> entries(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aGoodArchiveIsVerifiedExtractedAndFound(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Cli.Run r = Cli.run("download", "--data", data.toString(), "--url", base + "/good.tar.gz", "--md5", md5(goodBytes), "--json");
        assertEquals(0, r.status(), r.toString());
        Map<String, Object> json = r.json();
        Path target = data.resolve(DataLocator.BATCHES_DIR);
        assertEquals(target.toString(), json.get("path"));
        assertEquals(true, json.get("verified"));
        assertEquals(List.of(DataLocator.BATCHES_DIR), entries(data), "no temporary files left");
        assertEquals(List.of("batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin", "readme.html", "test_batch.bin"), entries(target));
        assertEquals(target, DataLocator.find(data), "--data DIR finds what download put there");
        Dataset test = Cifar10.test(target, Cifar10.TEST_SIZE);
        assertEquals(7, test.label(17));
        assertEquals(String.join("\n", Cifar10.CLASSES), Files.readString(target.resolve("batches.meta.txt")));

        Cli.Run again = Cli.run("download", "--data", data.toString(), "--url", base + "/missing.tar.gz", "--json");
        assertEquals(0, again.status(), again.toString());
        assertEquals(false, again.json().get("downloaded"), "already there: nothing fetched");
        assertTrue(again.out().contains("already"), again.out());
    }

    @Test
    void anArchiveOnDiskInstallsTheSameWayAndForceReplaces(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Path target = Files.createDirectories(data.resolve(DataLocator.BATCHES_DIR));
        Files.writeString(target.resolve("stale.txt"), "left from before");
        Cli.Run refused = Cli.run("download", "--data", data.toString(), "--archive", good.toString(), "--md5", md5(goodBytes));
        assertEquals(1, refused.status(), refused.toString());
        assertTrue(refused.err().contains("lacks data_batch_1.bin") && refused.err().contains("--force"), refused.toString());

        Cli.Run r = Cli.run("download", "--data", data.toString(), "--archive", good.toString(), "--md5", md5(goodBytes), "--force", "--json");
        assertEquals(0, r.status(), r.toString());
        assertEquals(true, r.json().get("verified"));
        assertFalse(Files.exists(target.resolve("stale.txt")), "--force replaced the folder");
        assertTrue(Cifar10.isComplete(target));
        assertEquals(List.of(DataLocator.BATCHES_DIR), entries(data));
    }

    @Test
    void aWrongMd5ExtractsNothing(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        Cli.Run r = Cli.run("download", "--data", data.toString(), "--url", base + "/good.tar.gz");  // the official MD5
        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errorLines().size(), r.toString());
        assertTrue(r.err().contains("MD5 is") && r.err().contains("expected c32a1d4ab5d03f1284b67883e8d87530"), r.toString());
        assertEquals(List.of(), entries(data).stream().toList(), "nothing written, not even temporary files");
    }

    @Test
    void membersThatLeaveTheFolderMakeTheArchiveRefused(@TempDir Path tmp) throws Exception {
        String[][] hostile = {
                {"cifar-10-batches-bin/../../evil.txt", "0"},
                {"../evil.txt", "0"},
                {"/tmp/evil.txt", "0"},
                {"cifar-10-batches-bin/data_batch_1.bin", "2"},  // a symlink out of the folder, under an expected name
                {"cifar-10-batches-bin/sneaky", "1"},            // a hard link out of the folder
        };
        for (int i = 0; i < hostile.length; i++) {
            String[] h = hostile[i];
            Path archive = tmp.resolve("hostile.tar.gz");
            try (TestArchives.Writer tar = new TestArchives.Writer(archive)) {
                tar.folder("cifar-10-batches-bin/");
                if (h[1].equals("0")) tar.file(h[0], "evil".getBytes(StandardCharsets.UTF_8));
                else tar.link(h[0], h[1].charAt(0), "../../../etc/passwd");
                for (String name : Cifar10.allFiles()) tar.file("cifar-10-batches-bin/" + name + ".bin", new byte[0]);
            }
            byte[] bytes = Files.readAllBytes(archive);
            serveBytes("/hostile-" + i + ".tar.gz", bytes, bytes.length);
            Path data = Files.createDirectories(tmp.resolve("a/b/data"));
            Cli.Run r = Cli.run("download", "--data", data.toString(), "--url", base + "/hostile-" + i + ".tar.gz", "--md5", md5(bytes));
            assertEquals(1, r.status(), r.toString());
            assertEquals(1, r.errorLines().size(), r.toString());
            assertTrue(r.err().contains("points outside the target folder"), r.toString());
            assertEquals(List.of(), entries(data), "nothing extracted for " + h[0]);
            assertFalse(Files.exists(tmp.resolve("a/evil.txt")) || Files.exists(tmp.resolve("a/b/evil.txt")), "no file outside");
            Files.delete(archive);
        }
    }

    @Test
    void truncatedOrMalformedArchivesExtractNothing(@TempDir Path tmp) throws Exception {
        byte[] truncated = Arrays.copyOf(goodBytes, goodBytes.length * 6 / 10);
        Path data = tmp.resolve("data");
        Cli.Run r = Cli.run("download", "--data", data.toString(), "--url", base + "/truncated.tar.gz", "--md5", md5(truncated));
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("truncated"), r.toString());
        assertEquals(List.of(), entries(data));

        Cli.Run cut = Cli.run("download", "--data", data.toString(), "--url", "http://127.0.0.1:" + cutServer.getLocalPort() + "/cut.tar.gz", "--md5", md5(goodBytes));
        assertEquals(1, cut.status(), cut.toString());
        assertTrue(cut.err().contains("broke off") || cut.err().contains("incomplete"), cut.toString());
        assertEquals(List.of(), entries(data));

        Path wrongSize = tmp.resolve("wrong-size.tar.gz");
        try (TestArchives.Writer tar = new TestArchives.Writer(wrongSize)) {
            tar.file("cifar-10-batches-bin/data_batch_1.bin", new byte[3073 * 10]);
        }
        byte[] bytes = Files.readAllBytes(wrongSize);
        Cli.Run small = Cli.run("download", "--data", data.toString(), "--archive", wrongSize.toString(), "--md5", md5(bytes));
        assertEquals(1, small.status(), small.toString());
        assertTrue(small.err().contains("has 30730 bytes, expected 30730000"), small.toString());
        assertEquals(List.of(), entries(data));

        Path notGzip = tmp.resolve("not.tar.gz");
        Files.writeString(notGzip, "<html>a captive portal</html>");
        bytes = Files.readAllBytes(notGzip);
        Cli.Run html = Cli.run("download", "--data", data.toString(), "--archive", notGzip.toString(), "--md5", md5(bytes));
        assertEquals(1, html.status(), html.toString());
        assertTrue(html.err().contains("gzip"), html.toString());
        assertEquals(List.of(), entries(data));
    }

    @Test
    void serverAndOptionErrorsAreOneLine(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        Cli.Run missing = Cli.run("download", "--data", data.toString(), "--url", base + "/missing.tar.gz");
        assertEquals(1, missing.status(), missing.toString());
        assertTrue(missing.err().contains("HTTP 404"), missing.toString());

        Cli.Run refused = Cli.run("download", "--data", data.toString(), "--url", "http://127.0.0.1:1/x.tar.gz");
        assertEquals(1, refused.status(), refused.toString());
        assertTrue(refused.err().contains("cannot download") && refused.err().contains("--archive"), refused.toString());

        Cli.Run ftp = Cli.run("download", "--data", data.toString(), "--url", "ftp://example.org/x.tar.gz");
        assertEquals(2, ftp.status(), ftp.toString());
        Cli.Run md5 = Cli.run("download", "--data", data.toString(), "--md5", "xyz");
        assertEquals(2, md5.status(), md5.toString());
        for (Cli.Run r : List.of(missing, refused, ftp, md5)) {
            assertEquals(1, r.errorLines().size(), r.toString());
            assertFalse(r.err().contains("\tat "), r.toString());
        }
        assertEquals(List.of(), entries(data));
    }
}
