package advtrain.backend.opencl;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;
import org.jocl.cl_mem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.jocl.CL.*;

/**
 * Copies between the host and one backend's device buffers, and counts them.
 *
 * <p>Writes go through pinned staging memory, so that the host never waits for the device to
 * upload a batch: the floats are copied into one of {@value #SLOTS} page-locked host buffers
 * (CL_MEM_ALLOC_HOST_PTR, mapped once), a non-blocking write from there is enqueued, and the queue
 * is flushed so the device starts on it and on everything queued before it. The caller may reuse
 * its array as soon as {@link #write} returns, as with a blocking write. A slot is reused only when
 * its previous upload has finished (its event), so the host runs at most {@value #SLOTS} writes
 * ahead of the device: a training step writes twice (images and labels), which makes this double
 * buffering of steps. Pinned memory is what lets a GPU driver copy by DMA while the host goes on;
 * the slot's buffer object is never used by a device command, only its mapped host memory.
 *
 * <p>Writes larger than {@link #MAX_STAGED_FLOATS} (loading a large tensor, not a batch) are plain
 * blocking writes. Reads block: they are where the host needs the device's results.
 */
final class ClTransfers {
    static final int SLOTS = 4;
    /** 16 MiB: a batch of 1,365 CIFAR-10 images. */
    static final int MAX_STAGED_FLOATS = 4 << 20;

    private final ClContext cl;
    private final cl_mem[] pinned = new cl_mem[SLOTS];
    private final ByteBuffer[] mapped = new ByteBuffer[SLOTS];
    private final FloatBuffer[] floats = new FloatBuffer[SLOTS];
    private final Pointer[] pointers = new Pointer[SLOTS];
    /**
     * The upload from each slot, while one may be running. A new cl_event per write (24 bytes; the
     * blocking write it replaces made two JOCL Pointers per write): JOCL crashes in clWaitForEvents
     * when an event object is passed to a second enqueue after its release.
     */
    private final cl_event[][] uploads = new cl_event[SLOTS][];
    private final boolean[] pending = new boolean[SLOTS];
    private int next;
    private long writes, reads, bytesWritten, bytesRead;

    ClTransfers(ClContext cl) {
        this.cl = cl;
        for (int i = 0; i < SLOTS; i++) uploads[i] = new cl_event[1];
    }

    /** Copies n floats of src from srcOffset into the start of dst without waiting for the device. */
    void write(cl_mem dst, float[] src, int srcOffset, int n) {
        writes++;
        bytesWritten += (long) n * Sizeof.cl_float;
        long bytes = (long) n * Sizeof.cl_float;
        synchronized (cl) {
            try {
                if (n > MAX_STAGED_FLOATS) {
                    clEnqueueWriteBuffer(cl.queue, dst, CL_TRUE, 0, bytes,
                            Pointer.to(src).withByteOffset((long) srcOffset * Sizeof.cl_float), 0, null, null);
                    return;
                }
                int slot = next;
                next = (next + 1) % SLOTS;
                awaitUpload(slot);
                if (floats[slot] == null || floats[slot].capacity() < n) grow(slot, n);
                FloatBuffer staging = floats[slot];
                staging.clear();
                staging.put(src, srcOffset, n);
                uploads[slot][0] = new cl_event();
                clEnqueueWriteBuffer(cl.queue, dst, CL_FALSE, 0, bytes, pointers[slot], 0, null, uploads[slot][0]);
                pending[slot] = true;
                clFlush(cl.queue);
            } catch (CLException e) {
                throw cl.failure("writing " + n + " floats to the device", e);
            }
        }
    }

    /** Copies n floats from the start of src into dst at dstOffset; waits for everything queued before it. */
    void read(cl_mem src, float[] dst, int dstOffset, int n) {
        reads++;
        bytesRead += (long) n * Sizeof.cl_float;
        synchronized (cl) {  // blocking, after everything queued before it (the queue is in order)
            try {
                clEnqueueReadBuffer(cl.queue, src, CL_TRUE, 0, (long) n * Sizeof.cl_float,
                        Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.cl_float), 0, null, null);
            } catch (CLException e) {
                throw cl.failure("reading " + n + " floats from the device", e);
            }
        }
    }

    /** Host-to-device and device-to-host copies so far: {writes, bytes written, reads, bytes read}. */
    long[] counts() { return new long[] {writes, bytesWritten, reads, bytesRead}; }

    /** Waits for the slot's last upload, if it may still be running, and lets its event go. */
    private void awaitUpload(int slot) {
        if (!pending[slot]) return;
        pending[slot] = false;
        clWaitForEvents(1, uploads[slot]);
        clReleaseEvent(uploads[slot][0]);
    }

    /** Replaces the slot's pinned buffer by one of at least n floats (rounded up: few regrowths). */
    private void grow(int slot, int n) {
        releaseSlot(slot);
        long capacity = Math.min(MAX_STAGED_FLOATS, Math.max(64 * 1024, Long.highestOneBit(n - 1L) << 1));
        long bytes = capacity * Sizeof.cl_float;
        pinned[slot] = clCreateBuffer(cl.context, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, bytes, null, null);
        mapped[slot] = clEnqueueMapBuffer(cl.queue, pinned[slot], CL_TRUE, CL_MAP_WRITE, 0, bytes, 0, null, null, null)
                .order(ByteOrder.nativeOrder());
        floats[slot] = mapped[slot].asFloatBuffer();
        pointers[slot] = Pointer.to(mapped[slot]);
    }

    private void releaseSlot(int slot) {
        awaitUpload(slot);
        if (pinned[slot] == null) return;
        clEnqueueUnmapMemObject(cl.queue, pinned[slot], mapped[slot], 0, null, null);
        clFinish(cl.queue);
        clReleaseMemObject(pinned[slot]);
        pinned[slot] = null;
        mapped[slot] = null;
        floats[slot] = null;
        pointers[slot] = null;
    }

    /** Waits for the uploads and gives the pinned memory back. */
    void close() {
        synchronized (cl) {
            for (int i = 0; i < SLOTS; i++) releaseSlot(i);
        }
    }
}
