package advtrain.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

class TarReaderTest {
    @Test
    void readsNamesTypesContentsAndGnuLongNames(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("a.tar.gz");
        String longName = "folder/" + "x".repeat(150) + ".txt";
        try (TestArchives.Writer tar = new TestArchives.Writer(file)) {
            tar.folder("folder/");
            tar.file("folder/hello.txt", "hello".getBytes(StandardCharsets.UTF_8));
            tar.link("folder/link", '2', "../../etc/passwd");
            tar.longNamedFile(longName, "long".getBytes(StandardCharsets.UTF_8));
            tar.file("folder/empty", new byte[0]);
            tar.splitNameFile("folder/deeper", "split.txt", false, new byte[3]);
            tar.splitNameFile("17000000000", "gnu.txt", true, new byte[3]);  // an old GNU header: an access time there
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            TarReader tar = new TarReader(in);
            TarReader.Entry e = tar.next();
            assertEquals("folder/", e.name());
            assertTrue(e.isDirectory());
            e = tar.next();
            assertEquals("folder/hello.txt", e.name());
            assertTrue(e.isFile());
            assertEquals(5, e.size());
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            assertEquals(5, tar.copyTo(content));
            assertEquals("hello", content.toString(StandardCharsets.UTF_8));
            e = tar.next();
            assertEquals('2', e.type());
            assertEquals("../../etc/passwd", e.linkName());
            e = tar.next();
            assertEquals(longName, e.name(), "the GNU long name replaces the stand-in");
            e = tar.next();  // the long-named file's content is skipped without copyTo
            assertEquals("folder/empty", e.name());
            assertEquals("folder/deeper/split.txt", tar.next().name(), "ustar's prefix joins the name");
            assertEquals("gnu.txt", tar.next().name(), "old GNU headers have no prefix field");
            assertNull(tar.next());
        }
    }

    @Test
    void aCorruptHeaderOrAnEarlyEndIsAnError(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("a.tar.gz");
        try (TestArchives.Writer tar = new TestArchives.Writer(file)) {
            tar.file("one", new byte[2000]);
            tar.file("two", new byte[10]);
        }
        byte[] tarBytes;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            tarBytes = in.readAllBytes();
        }
        byte[] corrupt = tarBytes.clone();
        corrupt[5] ^= 1;  // inside the first name: the checksum no longer matches
        TarReader.TarException e = assertThrows(TarReader.TarException.class, () -> new TarReader(new java.io.ByteArrayInputStream(corrupt)).next());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());

        byte[] cut = java.util.Arrays.copyOf(tarBytes, 512 + 1000);  // inside the first member's content
        TarReader reader = new TarReader(new java.io.ByteArrayInputStream(cut));
        assertEquals("one", reader.next().name());
        e = assertThrows(TarReader.TarException.class, reader::next);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        byte[] noEnd = java.util.Arrays.copyOf(tarBytes, 512 * 7);  // both members, no end-of-archive block
        TarReader reader2 = new TarReader(new java.io.ByteArrayInputStream(noEnd));
        reader2.next();
        reader2.next();
        e = assertThrows(TarReader.TarException.class, reader2::next);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
}
