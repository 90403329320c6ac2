package advtrain.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Shape's value semantics, and the interning that lets a training step allocate none. */
class ShapeTest {

    @Test
    void ranksOneTwoAndFourAreInternedAndStillCompareByValue() {
        assertSame(Shape.of(32, 6, 28, 28), Shape.of(32, 6, 28, 28));
        assertSame(Shape.of(32, 120), Shape.of(32, 120));
        assertSame(Shape.of(1), Shape.of(1));
        assertEquals(Shape.of(new int[] {32, 120}), Shape.of(32, 120), "the varargs form is equal to the interned one");
        assertEquals(Shape.of(32, 120).hashCode(), Shape.of(new int[] {32, 120}).hashCode());
        assertNotEquals(Shape.of(32, 120), Shape.of(120, 32));
        assertNotEquals(Shape.of(4), Shape.of(4, 1));
        assertEquals(4 * 3 * 2 * 5, Shape.of(4, 3, 2, 5).size());
    }

    @Test
    void collidingShapesAreAllStillRight() {
        // Far more shapes than the table has slots: every one must come back with its own dims.
        for (int a = 0; a < 40; a++) {
            for (int b = 0; b < 40; b++) {
                Shape s = Shape.of(a, b);
                assertEquals(2, s.rank());
                assertEquals(a, s.dim(0));
                assertEquals(b, s.dim(1));
                Shape t = Shape.of(b, a, 3, 1);
                assertEquals(b, t.dim(0));
                assertEquals(a, t.dim(1));
                assertEquals(3, t.dim(2));
            }
        }
    }

    @Test
    void badDimensionsAreRejectedByEveryForm() {
        assertThrows(IllegalArgumentException.class, () -> Shape.of(-1));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(3, -2));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 2, 3, -4));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1 << 16, 1 << 16));
    }
}
