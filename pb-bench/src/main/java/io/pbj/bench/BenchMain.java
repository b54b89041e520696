package io.pbj.bench;

/** Placeholder main; replaced by the benchmark entry point. */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) {}
}
