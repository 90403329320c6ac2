package advtrain.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Vec#transpose} and {@link Vec#pixelMajor}: every element lands where the transpose puts it, and nothing else is written. */
class VecTest {
    private static final int VL = Gemm.VL;

    @Test
    void transposeMovesEveryElementToItsMirrorPlace() {
        int srcStride = VL + 3, dstStride = VL + 5;
        float[] src = new float[2 + VL * srcStride], dst = new float[1 + VL * dstStride + 4], tmp = new float[2 * VL * VL];
        for (int i = 0; i < src.length; i++) src[i] = i + 1;
        java.util.Arrays.fill(dst, -1f);
        Vec.transpose(src, 2, srcStride, dst, 1, dstStride, tmp, 0);
        for (int c = 0; c < VL; c++) {
            for (int x = 0; x < dstStride; x++) {
                float expected = x < VL ? src[2 + x * srcStride + c] : -1f;  // column c of the block, then untouched padding
                assertEquals(expected, dst[1 + c * dstStride + x], "row " + c + ", element " + x);
            }
        }
    }

    @Test
    void transposeCanPutTheSecondHalfOfItsRowsElsewhere() {
        float[] src = new float[VL * VL], dst = new float[4 * VL * VL], tmp = new float[2 * VL * VL];
        for (int i = 0; i < src.length; i++) src[i] = i + 1;
        int low = 3, high = 2 * VL * VL + 7;
        Vec.transpose(src, 0, VL, dst, low, high, VL, tmp, 0);
        for (int c = 0; c < VL; c++) {
            int row = c < VL / 2 ? low + c * VL : high + (c - VL / 2) * VL;
            for (int r = 0; r < VL; r++) assertEquals(src[r * VL + c], dst[row + r], "column " + c + ", row " + r);
        }
    }

    @Test
    void pixelMajorByBlocksAndElementByElementAgree() {
        for (int[] size : new int[][] {{2 * VL, 3 * VL}, {VL, VL / 2 + 3}, {5, 7}}) {
            int channels = size[0], pixels = size[1];
            float[] src = new float[3 + channels * pixels], dst = new float[channels * pixels + 2], tmp = new float[2 * VL * VL];
            for (int i = 0; i < src.length; i++) src[i] = i * 0.5f;
            Vec.pixelMajor(src, 3, channels, pixels, dst, 2, tmp, 0);
            for (int c = 0; c < channels; c++) {
                for (int p = 0; p < pixels; p++) {
                    assertEquals(src[3 + c * pixels + p], dst[2 + p * channels + c], channels + " x " + pixels + ": channel " + c + ", pixel " + p);
                }
            }
        }
    }
}
