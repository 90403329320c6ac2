package advtrain.report;

/** Pictures are drawn off screen: AWT must not look for a display (servers, CI). */
final class Headless {
    private Headless() {}

    static void init() {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }
}
