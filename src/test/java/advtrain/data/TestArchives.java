package advtrain.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/** Writes small made-up .tar.gz archives for the download tests: ustar headers, by hand. */
public final class TestArchives {
    private TestArchives() {}

    /** A tar.gz being written; members are added in order. */
    public static final class Writer implements AutoCloseable {
        private final OutputStream out;

        public Writer(Path file) throws IOException {
            out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16) {{ def.setLevel(Deflater.BEST_SPEED); }};
        }

        public Writer folder(String name) throws IOException { return header(name, 0, '5', ""); }

        public Writer link(String name, char type, String target) throws IOException { return header(name, 0, type, target); }

        public Writer file(String name, byte[] content) throws IOException {
            header(name, content.length, '0', "");
            out.write(content);
            return pad(content.length);
        }

        /** A CIFAR-10-sized data file: 10,000 records, label r % 10, pixels mostly zero, first byte r. */
        public Writer dataFile(String name) throws IOException {
            header(name, Cifar10.FILE_BYTES, '0', "");
            byte[] record = new byte[Cifar10.RECORD_BYTES];
            for (int r = 0; r < Cifar10.RECORDS_PER_FILE; r++) {
                record[0] = (byte) (r % 10);
                record[1] = (byte) r;
                out.write(record);
            }
            return pad(Cifar10.FILE_BYTES);
        }

        /** A GNU long-name record followed by a file whose ustar name is a shortened stand-in. */
        public Writer longNamedFile(String longName, byte[] content) throws IOException {
            byte[] name = (longName + "\0").getBytes(StandardCharsets.UTF_8);
            header("././@LongLink", name.length, 'L', "");
            out.write(name);
            pad(name.length);
            return file("short-stand-in", content);
        }

        /** A file whose header splits its name: ustar's prefix field, or (gnu) old GNU's magic with bytes there. */
        public Writer splitNameFile(String prefix, String name, boolean gnu, byte[] content) throws IOException {
            headerWith(name, content.length, '0', "", prefix, gnu);
            out.write(content);
            return pad(content.length);
        }

        private Writer header(String name, long size, char type, String link) throws IOException {
            return headerWith(name, size, type, link, "", false);
        }

        private Writer headerWith(String name, long size, char type, String link, String prefix, boolean gnu) throws IOException {
            byte[] h = new byte[512];
            put(h, 0, 100, name);
            put(h, 100, 8, "0000644");
            put(h, 108, 8, "0000000");
            put(h, 116, 8, "0000000");
            put(h, 124, 12, String.format("%011o", size));
            put(h, 136, 12, String.format("%011o", 1_300_000_000L));
            Arrays.fill(h, 148, 156, (byte) ' ');
            h[156] = (byte) type;
            put(h, 157, 100, link);
            put(h, 257, 6, gnu ? "ustar " : "ustar");
            put(h, 263, 2, gnu ? " " : "00");
            put(h, 345, 155, prefix);
            long sum = 0;
            for (byte b : h) sum += b & 0xFF;
            put(h, 148, 7, String.format("%06o", sum));
            out.write(h);
            return this;
        }

        private Writer pad(long size) throws IOException {
            out.write(new byte[(int) ((512 - size % 512) % 512)]);
            return this;
        }

        private static void put(byte[] h, int offset, int length, String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > length) throw new IllegalArgumentException(text + " is longer than " + length);
            System.arraycopy(bytes, 0, h, offset, bytes.length);
        }

        /** Ends the archive with its two zero blocks. */
        @Override public void close() throws IOException {
            out.write(new byte[1024]);
            out.close();
        }
    }

    /** An archive shaped like the official one (eight members under cifar-10-batches-bin/). */
    public static void official(Path file) throws IOException {
        try (Writer tar = new Writer(file)) {
            tar.folder("cifar-10-batches-bin/");
            for (String name : Cifar10.allFiles()) tar.dataFile("cifar-10-batches-bin/" + name + ".bin");
            tar.file("cifar-10-batches-bin/batches.meta.txt", String.join("\n", Cifar10.CLASSES).getBytes(StandardCharsets.UTF_8));
            tar.file("cifar-10-batches-bin/readme.html", "<p>made up for a test</p>".getBytes(StandardCharsets.UTF_8));
        }
    }
}
