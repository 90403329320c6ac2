package advtrain.report;

import advtrain.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A table of small images as one PNG: a title row, then rows of cells, each an image (CHW floats in
 * [0, 1], enlarged without smoothing so the pixels stay visible) with a caption under it. A thin
 * vertical rule can separate groups of columns.
 */
public final class ImageGrid {
    static { Headless.init(); }

    private static final int PAD = 6, TITLE_HEIGHT = 22, CAPTION_HEIGHT = 18;
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    private static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private ImageGrid() {}

    /** One picture and its caption; chw null leaves the cell empty. */
    public record Cell(float[] chw, String caption, Color captionColor) {}

    /**
     * @param channels, height, width the shape of every image (channels 1 or 3)
     * @param scale     each image pixel becomes scale x scale screen pixels
     * @param ruleAfter column indices after which a vertical rule is drawn
     */
    public static byte[] png(String title, List<String> columnTitles, List<List<Cell>> rows,
                             int channels, int height, int width, int scale, List<Integer> ruleAfter) throws IOException {
        int columns = columnTitles.size();
        int cellW = Math.max(width * scale, 84) + 2 * PAD, cellH = height * scale + CAPTION_HEIGHT + PAD;
        int top = (title == null ? 0 : TITLE_HEIGHT) + TITLE_HEIGHT;
        BufferedImage canvas = new BufferedImage(columns * cellW, top + rows.size() * cellH + PAD, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
            g.setColor(Color.BLACK);
            if (title != null) {
                g.setFont(TITLE_FONT);
                centered(g, title, 0, canvas.getWidth(), TITLE_HEIGHT - 6);
            }
            g.setFont(TITLE_FONT);
            for (int c = 0; c < columns; c++) centered(g, columnTitles.get(c), c * cellW, cellW, top - 6);
            g.setFont(CAPTION_FONT);
            for (int r = 0; r < rows.size(); r++) {
                List<Cell> row = rows.get(r);
                for (int c = 0; c < Math.min(columns, row.size()); c++) {
                    Cell cell = row.get(c);
                    if (cell == null) continue;
                    int x0 = c * cellW + (cellW - width * scale) / 2, y0 = top + r * cellH;
                    if (cell.chw() != null) drawImage(canvas, cell.chw(), channels, height, width, scale, x0, y0);
                    if (cell.caption() != null) {
                        g.setColor(cell.captionColor() == null ? Color.BLACK : cell.captionColor());
                        centered(g, cell.caption(), c * cellW, cellW, y0 + height * scale + CAPTION_HEIGHT - 5);
                    }
                }
            }
            g.setColor(new Color(170, 170, 170));
            g.setStroke(new BasicStroke(1f));
            for (int c : ruleAfter) {
                int x = (c + 1) * cellW - 1;
                g.drawLine(x, top - TITLE_HEIGHT + 2, x, canvas.getHeight() - 2);
            }
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(canvas, "png", out)) throw new IOException("no PNG writer in this Java runtime");
        return out.toByteArray();
    }

    public static void write(Path file, byte[] png) throws IOException {
        AtomicFiles.write(file, png);
    }

    private static void centered(Graphics2D g, String text, int x, int w, int baseline) {
        FontMetrics m = g.getFontMetrics();
        g.drawString(text, x + Math.max(0, (w - m.stringWidth(text)) / 2), baseline);
    }

    /** Pixel (y, x) of channel c is chw[(c * height + y) * width + x]; values clipped to [0, 1]. */
    private static void drawImage(BufferedImage canvas, float[] chw, int channels, int height, int width, int scale, int x0, int y0) {
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                int r = level(chw[i]);
                int gr = channels == 3 ? level(chw[plane + i]) : r;
                int b = channels == 3 ? level(chw[2 * plane + i]) : r;
                int rgb = (r << 16) | (gr << 8) | b;
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) canvas.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
                }
            }
        }
    }

    private static int level(float v) {
        return Math.round(Math.min(Math.max(v, 0f), 1f) * 255f);
    }
}
