package io.pbj.bench.live;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of this process, split by who spent it: the server's threads, the clients' threads
 * (both run in this JVM), and the rest (the JVM's own threads: garbage collection, the JIT).
 * Threads are told apart by name: PBJ names its server threads {@code pbj-server*} and {@code
 * pbj-accept*}, its client threads {@code pbj-client*} and the store's writers {@code
 * pbj-store-writer*}; the benchmark's own server-side threads are named in {@link
 * #SERVER_PREFIXES}.
 *
 * <p>Thread-safety: not thread-safe; one instance per measurement, used by one thread.
 */
final class CpuClock {
  static final String[] SERVER_PREFIXES = {
      "pbj-server", "pbj-accept", LiveBench.CHANGER_THREAD, LiveWorld.ANNOUNCER_THREAD};
  static final String[] CLIENT_PREFIXES = {"pbj-client", "pbj-store-writer"};

  /** CPU nanoseconds spent between {@link #start} and {@link #stop}. */
  record Split(long process, long server, long clients) {
    /** Process CPU not on a server or client thread: GC, JIT, other JVM or pool threads. */
    long rest() {
      return process - server - clients;
    }
  }

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final Map<Long, Long> before = new HashMap<>();
  private long processBefore;

  CpuClock() {
    if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
  }

  /** Whether the JVM measures per-thread CPU time (else the server and client columns are 0). */
  boolean perThread() {
    return threads.isThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled();
  }

  void start() {
    before.clear();
    for (long id : threads.getAllThreadIds()) {
      long t = threads.getThreadCpuTime(id);
      if (t >= 0) {
        before.put(id, t);
      }
    }
    processBefore = processCpu();
  }

  /**
   * CPU since {@link #start}. A thread that ended in between is missing from the server and
   * client sums (it stays in the process total, so in {@link Split#rest()}).
   */
  Split stop() {
    long process = processCpu() - processBefore;
    long server = 0;
    long clients = 0;
    long[] ids = threads.getAllThreadIds();
    ThreadInfo[] infos = threads.getThreadInfo(ids);
    for (int i = 0; i < ids.length; i++) {
      long t = threads.getThreadCpuTime(ids[i]);
      if (t < 0 || infos[i] == null) {
        continue;
      }
      long spent = t - before.getOrDefault(ids[i], 0L);
      String name = infos[i].getThreadName();
      if (startsWithAny(name, SERVER_PREFIXES)) {
        server += spent;
      } else if (startsWithAny(name, CLIENT_PREFIXES)) {
        clients += spent;
      }
    }
    return new Split(process, server, clients);
  }

  private static boolean startsWithAny(String name, String[] prefixes) {
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  /** This process's CPU time in nanoseconds, or -1 if the JVM does not say. */
  static long processCpu() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
