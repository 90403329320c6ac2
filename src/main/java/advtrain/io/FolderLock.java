package advtrain.io;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An exclusive claim on an output folder for as long as a command writes into it, so that two
 * processes given the same --out cannot both write there and both report success. The claim is an
 * operating-system lock ({@link FileChannel#tryLock}) on the file {@value #FILE} in the folder: it
 * ends when the process does, however it ends (kill -9 included), so a stale lock never blocks a
 * later run. The file also says who holds it (process id, host, start time, command), for the
 * message the second process gives. The file itself stays: deleting it would let a third process
 * lock a new file while a second still waits on the old one.
 *
 * <p>Closing any channel of a file drops all of this process's locks on it (POSIX record locks),
 * so a folder this process holds is answered from {@link #HELD_HERE} without opening its file.
 */
public final class FolderLock implements AutoCloseable {
    public static final String FILE = ".advtrain.lock";

    /** The lock files this process holds, as real paths. */
    private static final java.util.Set<Path> HELD_HERE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private FolderLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Another process (or another command in this one) holds the folder. */
    public static final class HeldException extends IOException {
        public HeldException(String message) { super(message); }
    }

    /**
     * Creates {@code dir} if needed and claims it.
     *
     * @param option  how the user named the folder ("--out"), for the message
     * @param command what this process does there ("train"), recorded for the next one
     * @throws HeldException when another process holds it
     */
    public static FolderLock acquire(Path dir, String option, String command) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.toRealPath().resolve(FILE);
        if (HELD_HERE.contains(file)) {
            throw new HeldException(option + " " + dir + " is in use by another command of this process; choose another " + option);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;  // held by this very process
        } catch (IOException e) {
            // A file system without locks (some network mounts): run, but say what is not guarded.
            System.err.println("warning: cannot lock " + file + " (" + e.getMessage() + "); nothing stops a second process from writing into " + dir);
            return new FolderLock(file, channel, null);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new HeldException(option + " " + dir + " is in use by another advtrain process (" + holder
                    + "); wait for it to finish, or choose another " + option);
        }
        byte[] who = ("pid " + ProcessHandle.current().pid() + " on " + host() + ", started " + now() + ", " + command + "\n")
                .getBytes(StandardCharsets.UTF_8);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(who), 0);
        channel.force(true);
        HELD_HERE.add(file);
        return new FolderLock(file, channel, lock);
    }

    /** Fails, saying who holds it, when another process holds the folder now (for a check before any work). */
    public static void requireFree(Path dir, String option) throws HeldException {
        if (!isHeld(dir)) return;
        String holder = "another command of this process";
        Path file = dir.resolve(FILE);
        try {
            if (!HELD_HERE.contains(file.toRealPath())) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    holder = holder(channel);
                }
            }
        } catch (IOException e) {
            holder = "unknown";
        }
        throw new HeldException(option + " " + dir + " is in use by another advtrain process (" + holder
                + "); wait for it to finish, or choose another " + option);
    }

    /** Whether some process (this one included) holds the folder now. */
    public static boolean isHeld(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return false;
        try {
            if (HELD_HERE.contains(file.toRealPath())) return true;
        } catch (IOException e) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock probe = channel.tryLock();
            if (probe == null) return true;
            probe.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return false;  // cannot open it, so cannot tell; nobody we can see holds it
        }
    }

    @Override public void close() throws IOException {
        try {
            if (lock != null && lock.isValid()) lock.release();
        } finally {
            HELD_HERE.remove(file);
            channel.close();
        }
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(1024);
            channel.read(buffer, 0);
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).trim();
            return text.isEmpty() ? "it has not said who it is yet" : text;
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String name = ManagementFactory.getRuntimeMXBean().getName();  // "pid@host"
            return name.substring(name.indexOf('@') + 1);
        }
    }

    private static String now() { return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(); }
}
