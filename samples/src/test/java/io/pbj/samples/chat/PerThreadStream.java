package io.pbj.samples.chat;

import java.io.OutputStream;
import java.io.PrintStream;

/** A System.out/err that writes to a per-thread stream when one is set, for parallel CLI runs. */
final class PerThreadStream extends OutputStream {
  static final ThreadLocal<PrintStream> OUT = new ThreadLocal<>();
  static final ThreadLocal<PrintStream> ERR = new ThreadLocal<>();
  private static boolean installed;

  private final ThreadLocal<PrintStream> target;
  private final PrintStream fallback;

  private PerThreadStream(ThreadLocal<PrintStream> target, PrintStream fallback) {
    this.target = target;
    this.fallback = fallback;
  }

  static synchronized void install() {
    if (!installed) {
      System.setOut(new PrintStream(new PerThreadStream(OUT, System.out), true));
      System.setErr(new PrintStream(new PerThreadStream(ERR, System.err), true));
      installed = true;
    }
  }

  private PrintStream current() {
    PrintStream p = target.get();
    return p == null ? fallback : p;
  }

  @Override
  public void write(int b) {
    current().write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    current().write(b, off, len);
  }

  @Override
  public void flush() {
    current().flush();
  }
}
