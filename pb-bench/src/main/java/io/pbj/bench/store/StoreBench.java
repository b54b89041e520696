package io.pbj.bench.store;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Snapshot store benchmark: MapDB and MVStore side by side in one run. For each backend: batched
 * puts of 1 KiB values (write-behind, flushed at the end), random gets, listing one
 * server/service/perspective prefix holding every entry, the time to open the store in a fresh
 * JVM, and the file size.
 *
 * <pre>{@code
 * java -cp pb-bench/target/pbj-bench.jar io.pbj.bench.store.StoreBench [entries] [workDir]
 * }</pre>
 *
 * <p>A program, not a library: single-threaded, not thread-safe.
 */
public final class StoreBench {
  private static final int VALUE_BYTES = 1024;
  private static final int PUT_BATCH = 1000;
  private static final int GETS = 200_000;
  private static final int LISTINGS = 20;

  private StoreBench() {}

  record Result(
      StoreBackend backend,
      double putsPerSec,
      double getsPerSec,
      double listMillis,
      int listed,
      double openMillis,
      double openJvmMillis,
      long fileBytes,
      long dropped) {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--open-probe")) {
      openProbe(StoreBackend.valueOf(args[1]), Path.of(args[2]));
      return;
    }
    int entries = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Path work = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("pbj-store-bench");
    System.out.printf(
        "store bench: %d entries of %d bytes, put batches of %d, %d random gets, %d listings; %d cores, %s%n",
        entries, VALUE_BYTES, PUT_BATCH, GETS, LISTINGS, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    List<Result> results = new ArrayList<>();
    for (StoreBackend b : new StoreBackend[] {StoreBackend.MAPDB, StoreBackend.MVSTORE}) {
      results.add(run(b, entries, work.resolve(b.name().toLowerCase(Locale.ROOT))));
    }
    System.out.println();
    System.out.println("| backend | puts/s (1 KiB, batches of 1000) | gets/s (random) | list 1 prefix (" + entries
        + " entries) | open in fresh JVM (store / JVM total) | file size |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "| %s | %,.0f | %,.0f | %.1f ms | %.0f ms / %.0f ms | %.1f MiB |%n",
          r.backend(), r.putsPerSec(), r.getsPerSec(), r.listMillis(), r.openMillis(), r.openJvmMillis(),
          r.fileBytes() / (1024.0 * 1024.0));
    }
    deleteTree(work);
  }

  static SnapshotKey key(int i) {
    return new SnapshotKey("hub:7000", "world", "guest", "object-" + i);
  }

  private static Result run(StoreBackend backend, int entries, Path dir) throws Exception {
    Files.createDirectories(dir);
    Path file = dir.resolve("bench.store");
    SplittableRandom random = new SplittableRandom(42);
    byte[] value = new byte[VALUE_BYTES];
    double putsPerSec;
    long dropped;
    try (SnapshotStore store =
        SnapshotStore.builder()
            .backend(backend)
            .path(file)
            .writeBatchSize(PUT_BATCH)
            .writeQueueBound(20 * PUT_BATCH)
            .build()) {
      long t0 = System.nanoTime();
      for (int i = 0; i < entries; ) {
        Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
        for (int j = 0; j < PUT_BATCH && i < entries; j++, i++) {
          random.nextBytes(value);
          batch.put(key(i), Snapshot.of(i, 1, value));
        }
        store.putAll(batch);
        if (store.stats().queuedWrites() > 10 * PUT_BATCH) {
          store.flush(); // keep within the queue bound: measure what the disk sustains, drop nothing
        }
      }
      store.flush();
      putsPerSec = entries / seconds(t0);
      dropped = store.stats().droppedWrites();
    }
    double getsPerSec;
    double listMillis;
    int listed;
    try (SnapshotStore store = SnapshotStore.builder().backend(backend).path(file).build()) {
      long sink = 0;
      for (int i = 0; i < GETS / 10; i++) { // warm-up
        sink += store.get(key(random.nextInt(entries))).map(Snapshot::stateSize).orElse(0);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < GETS; i++) {
        sink += store.get(key(random.nextInt(entries))).map(Snapshot::stateSize).orElse(0);
      }
      getsPerSec = GETS / seconds(t0);
      SnapshotPrefix prefix = SnapshotPrefix.of("hub:7000", "world", "guest");
      listed = store.list(prefix).size();
      t0 = System.nanoTime();
      for (int i = 0; i < LISTINGS; i++) {
        sink += store.list(prefix).size();
      }
      listMillis = seconds(t0) * 1000 / LISTINGS;
      if (sink == 42) {
        System.out.println();
      }
      StoreStats s = store.stats();
      if (s.checksumFailures() != 0 || s.misses() != 0) {
        throw new IllegalStateException("unexpected misses in the benchmark: " + s);
      }
    }
    long fileBytes = sizeOf(dir);
    double[] open = openInFreshJvm(backend, file);
    Result r = new Result(backend, putsPerSec, getsPerSec, listMillis, listed, open[0], open[1], fileBytes, dropped);
    System.out.println(r);
    return r;
  }

  /** Runs in the child JVM: opens the store, prints how long it took and the entry count. */
  private static void openProbe(StoreBackend backend, Path file) {
    long t0 = System.nanoTime();
    try (SnapshotStore store = SnapshotStore.builder().backend(backend).path(file).build()) {
      double ms = seconds(t0) * 1000;
      System.out.println("open " + ms + " " + store.size());
    }
  }

  private static double[] openInFreshJvm(StoreBackend backend, Path file) throws IOException, InterruptedException {
    List<String> cmd = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        StoreBench.class.getName(), "--open-probe", backend.name(), file.toString());
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String line = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        if (l.startsWith("open ")) {
          line = l;
        } else {
          System.out.println("  child: " + l);
        }
      }
    }
    if (p.waitFor() != 0 || line == null) {
      throw new IllegalStateException("open probe failed for " + backend);
    }
    double jvm = seconds(t0) * 1000;
    return new double[] {Double.parseDouble(line.split(" ")[1]), jvm};
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().endsWith(".lock")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
