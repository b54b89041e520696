package io.pbj.samples;

import picocli.CommandLine.Command;

/** Placeholder for the snapshot store inspector. */
@Command(name = "cache-inspect", description = "Inspect a PBJ snapshot store.")
final class CacheInspect implements Runnable {
  @Override
  public void run() {}
}
