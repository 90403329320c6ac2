package advtrain.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a tar stream entry by entry: 512-byte headers (POSIX ustar, with GNU's and pax's long-name
 * records), each followed by the entry's content padded to 512 bytes, and a zero block at the end.
 * It only reports what the archive says; choosing where (and whether) to write an entry is the
 * caller's job, so nothing here touches the file system. Every header's checksum is verified, and
 * an archive that stops early is an error, never a silent short read.
 */
final class TarReader {
    static final int BLOCK = 512;
    private static final int MAX_META_BYTES = 1 << 20;  // long-name and pax records: small by nature

    /** One member. {@code type} is the header's type flag: '0' (or NUL) file, '5' folder, '1'/'2' links, ... */
    record Entry(String name, char type, long size, String linkName) {
        boolean isFile() { return type == '0' || type == '\0' || type == '7'; }

        boolean isDirectory() { return type == '5'; }
    }

    /** A malformed or truncated archive. */
    static final class TarException extends IOException {
        TarException(String message) { super(message); }
    }

    private final InputStream in;
    private final byte[] block = new byte[BLOCK];
    private long position;           // bytes consumed, for messages
    private long remaining, padding; // of the current entry's content

    TarReader(InputStream in) { this.in = in; }

    /** The next member, or null at the end-of-archive marker. The previous member's content is skipped. */
    Entry next() throws IOException {
        skipContent();
        String longName = null, longLink = null, paxPath = null, paxLink = null;
        while (true) {
            long headerAt = position;
            readBlock("a header");
            if (isZero(block)) return null;
            checkChecksum(headerAt);
            char type = (char) block[156];
            long size = number(124, 12, headerAt);
            String name = string(0, 100);
            // POSIX ustar ("ustar\0") splits long names into prefix + name; old GNU headers ("ustar  ")
            // keep other fields (access times) at that offset, so their prefix is never used.
            if (string(257, 6).equals("ustar")) {
                String prefix = string(345, 155);
                if (!prefix.isEmpty()) name = prefix + "/" + name;
            }
            String linkName = string(157, 100);
            switch (type) {
                case 'L' -> { longName = trimNul(readMeta(size, headerAt)); continue; }
                case 'K' -> { longLink = trimNul(readMeta(size, headerAt)); continue; }
                case 'x' -> {
                    String records = readMeta(size, headerAt);
                    String path = paxValue(records, "path", headerAt), link = paxValue(records, "linkpath", headerAt);
                    if (path != null) paxPath = path;
                    if (link != null) paxLink = link;
                    continue;
                }
                case 'g' -> { readMeta(size, headerAt); continue; }  // global pax settings: nothing we use
                default -> { }
            }
            if (paxPath != null) name = paxPath;
            else if (longName != null) name = longName;
            if (paxLink != null) linkName = paxLink;
            else if (longLink != null) linkName = longLink;
            Entry entry = new Entry(name, type, size, linkName);
            // Links, devices, FIFOs and folders have no content whatever their size field says (as GNU tar reads them).
            remaining = "123456".indexOf(type) >= 0 ? 0 : size;
            padding = (BLOCK - remaining % BLOCK) % BLOCK;
            return entry;
        }
    }

    /** Copies the current member's content to out; returns the number of bytes. */
    long copyTo(OutputStream out) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long copied = 0;
        while (remaining > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) throw truncated("the content of a member");
            out.write(buffer, 0, n);
            remaining -= n;
            position += n;
            copied += n;
        }
        return copied;
    }

    private void skipContent() throws IOException {
        long skip = remaining + padding;
        remaining = 0;
        padding = 0;
        byte[] buffer = new byte[8192];
        while (skip > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, skip));
            if (n < 0) throw truncated("the content of a member");
            skip -= n;
            position += n;
        }
    }

    private void readBlock(String what) throws IOException {
        int got = in.readNBytes(block, 0, BLOCK);
        position += got;
        if (got < BLOCK) throw truncated(what);
    }

    private TarException truncated(String what) {
        return new TarException("the tar archive is truncated: it ends at byte " + position + ", inside " + what);
    }

    private String readMeta(long size, long headerAt) throws IOException {
        if (size > MAX_META_BYTES) throw new TarException("tar header at byte " + headerAt + " announces a " + size + "-byte name record");
        byte[] bytes = new byte[(int) size];
        int got = in.readNBytes(bytes, 0, bytes.length);
        position += got;
        if (got < bytes.length) throw truncated("a name record");
        long pad = (BLOCK - size % BLOCK) % BLOCK;
        remaining = 0;
        padding = pad;
        skipContent();
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The value of a key in pax records ("LENGTH key=value\n" ...), or null. */
    private static String paxValue(String records, String key, long headerAt) throws TarException {
        byte[] bytes = records.getBytes(StandardCharsets.UTF_8);
        int at = 0;
        String found = null;
        while (at < bytes.length) {
            int space = at;
            while (space < bytes.length && bytes[space] != ' ') space++;
            int length;
            try {
                length = Integer.parseInt(new String(bytes, at, space - at, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new TarException("malformed pax record in the tar header at byte " + headerAt);
            }
            if (length <= space - at || at + length > bytes.length) throw new TarException("malformed pax record in the tar header at byte " + headerAt);
            String record = new String(bytes, space + 1, at + length - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq > 0 && record.substring(0, eq).equals(key)) found = record.substring(eq + 1);
            at += length;
        }
        return found;
    }

    private void checkChecksum(long headerAt) throws TarException {
        long stored = number(148, 8, headerAt);
        long unsigned = 0, signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : block[i];
            unsigned += b & 0xFF;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new TarException("corrupt tar header at byte " + headerAt + " (checksum " + stored + ", computed " + unsigned + ")");
        }
    }

    /** An octal number field (NUL- or space-terminated), or GNU's base-256 form when the top bit is set. */
    private long number(int offset, int length, long headerAt) throws TarException {
        if ((block[offset] & 0x80) != 0) {
            long v = block[offset] & 0x7F;
            for (int i = 1; i < length; i++) {
                if (v > (Long.MAX_VALUE >> 8)) throw new TarException("number too large in the tar header at byte " + headerAt);
                v = (v << 8) | (block[offset + i] & 0xFF);
            }
            return v;
        }
        long v = 0;
        int i = offset, end = offset + length;
        while (i < end && block[i] == ' ') i++;
        boolean digits = false;
        for (; i < end && block[i] != 0 && block[i] != ' '; i++) {
            int d = block[i] - '0';
            if (d < 0 || d > 7) throw new TarException("bad number in the tar header at byte " + headerAt);
            if (v > (Long.MAX_VALUE >> 3)) throw new TarException("number too large in the tar header at byte " + headerAt);
            v = v * 8 + d;
            digits = true;
        }
        if (!digits) throw new TarException("missing number in the tar header at byte " + headerAt);
        return v;
    }

    private String string(int offset, int length) {
        int end = offset;
        while (end < offset + length && block[end] != 0) end++;
        return new String(block, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static String trimNul(String s) {
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }

    private static boolean isZero(byte[] bytes) {
        for (byte b : bytes) if (b != 0) return false;
        return true;
    }
}
