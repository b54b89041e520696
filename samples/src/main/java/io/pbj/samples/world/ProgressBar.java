package io.pbj.samples.world;

import io.pbj.publish.ActivationProgress;
import java.io.PrintWriter;
import java.util.function.Consumer;

/**
 * Shows the activation of one attach as a bar: redrawn in place (carriage return) while a console
 * is attached, then one final line, which is all that is printed when the output is not a
 * console (a log, a test).
 *
 * <pre>{@code
 * PublishedClient.builder().store(store).progress(new ProgressBar("cold", err, true))...
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the client calls it from its executor, one call at a time.
 */
final class ProgressBar implements Consumer<ActivationProgress> {
  private static final int WIDTH = 30;

  private final String label;
  private final PrintWriter out;
  private final boolean inPlace;
  private int drawnPercent = -1;

  ProgressBar(String label, PrintWriter out, boolean inPlace) {
    this.label = label;
    this.out = out;
    this.inPlace = inPlace;
  }

  /** Whether the program's output is a console, where a bar can be redrawn in place. */
  static boolean console() {
    return System.console() != null;
  }

  @Override
  public synchronized void accept(ActivationProgress p) {
    int percent = p.objectsTotal() == 0 ? 100 : (int) (p.objectsDone() * 100 / p.objectsTotal());
    if (p.done()) {
      out.print((inPlace ? "\r" : "") + line(p, percent));
      out.println();
      out.flush();
    } else if (inPlace && percent != drawnPercent) {
      drawnPercent = percent;
      out.print("\r" + line(p, percent));
      out.flush();
    }
  }

  private String line(ActivationProgress p, int percent) {
    int filled = percent * WIDTH / 100;
    return String.format(java.util.Locale.ROOT, "%-5s [%s%s] %3d%%  %,d/%,d objects activated, %s of state",
        label, "#".repeat(filled), "-".repeat(WIDTH - filled), percent, p.objectsDone(),
        p.objectsTotal(), Reports.size(p.bytesDone()));
  }
}
