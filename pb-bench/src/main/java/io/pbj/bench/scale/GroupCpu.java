package io.pbj.bench.scale;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of this process, split by thread group. Everything in one JVM, so the benchmark starts
 * each party (the origin, the relays, the clients) from a thread of a group of its own: the
 * threads Netty and PBJ make for it (event loops, executors, writers) are made by that party's
 * threads and inherit its group. A party's CPU is the sum over the live threads of its group and
 * the groups below it.
 *
 * <p>Thread-safety: not thread-safe; one instance per measurement, used by one thread.
 */
final class GroupCpu {
  /** CPU nanoseconds spent between {@link #start} and {@link #stop}. */
  record Split(long process, long[] byGroup) {
    /** Process CPU not on a thread of the groups: GC, JIT, other JVM or pool threads. */
    long rest() {
      long r = process;
      for (long g : byGroup) {
        r -= g;
      }
      return r;
    }
  }

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final ThreadGroup[] groups;
  private final Map<Long, Long> before = new HashMap<>();
  private long processBefore;

  GroupCpu(ThreadGroup... groups) {
    this.groups = groups;
    if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
  }

  /** Whether the JVM measures per-thread CPU time (else the groups' columns are 0). */
  boolean perThread() {
    return threads.isThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled();
  }

  void start() {
    before.clear();
    for (Thread t : liveThreads()) {
      long cpu = threads.getThreadCpuTime(t.getId());
      if (cpu >= 0) {
        before.put(t.getId(), cpu);
      }
    }
    processBefore = processCpu();
  }

  /**
   * CPU since {@link #start}. A thread that ended in between is missing from its group's sum (it
   * stays in the process total, so in {@link Split#rest()}).
   */
  Split stop() {
    long process = processCpu() - processBefore;
    long[] byGroup = new long[groups.length];
    for (Thread t : liveThreads()) {
      int g = groupOf(t);
      long cpu = threads.getThreadCpuTime(t.getId());
      if (g >= 0 && cpu >= 0) {
        byGroup[g] += cpu - before.getOrDefault(t.getId(), 0L);
      }
    }
    return new Split(process, byGroup);
  }

  private int groupOf(Thread t) {
    ThreadGroup tg = t.getThreadGroup();
    if (tg == null) {
      return -1;    // ended
    }
    for (int i = 0; i < groups.length; i++) {
      if (groups[i].parentOf(tg)) {
        return i;
      }
    }
    return -1;
  }

  private static Thread[] liveThreads() {
    ThreadGroup root = Thread.currentThread().getThreadGroup();
    while (root.getParent() != null) {
      root = root.getParent();
    }
    Thread[] all = new Thread[root.activeCount() * 2 + 16];
    int n;
    while ((n = root.enumerate(all, true)) == all.length) {
      all = new Thread[all.length * 2];
    }
    Thread[] live = new Thread[n];
    System.arraycopy(all, 0, live, 0, n);
    return live;
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
