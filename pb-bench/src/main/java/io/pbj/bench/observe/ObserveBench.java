package io.pbj.bench.observe;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pbj.CallInterceptor;
import io.pbj.PbClient;
import io.pbj.PbListener;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.micrometer.PbMetrics;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;

/**
 * What watching calls costs: blocking in-process calls of a small echo, with nothing watching, a
 * no-op {@link PbListener}, a pass-through {@link CallInterceptor}, {@link PbMetrics} in a
 * {@code SimpleMeterRegistry}, and a JFR recording of every call ({@code io.pbj.Call} at threshold
 * 0), each on both brokers. Variants run in turns, rounds interleaved, so that a machine shared
 * with other work slows them alike; it prints the median calls per second of each, its ratio to
 * "nothing", and the bytes the calling thread allocated per call (from the JVM's per-thread
 * allocation counter, which does not depend on timing).
 *
 * <pre>{@code
 * java -cp pbj-bench.jar io.pbj.bench.observe.ObserveBench [calls-per-round] [rounds]
 * }</pre>
 *
 * <p>Thread-safety: a program; one thread runs it.
 */
public final class ObserveBench {
  private ObserveBench() {}

  /** The root object the server offers. */
  public static final class EchoRoot implements Referenceable {
    /** Returns {@code text}. */
    @Remote
    public String echo(String text) {
      return text;
    }
  }

  private record Variant(String name, PbServer server, PbClient client, RemoteReference root,
      boolean jfr) {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    List<Variant> variants = new ArrayList<>();
    variants.add(start("nothing", b -> {}, b -> {}, false));
    PbListener noop = new PbListener() {};
    variants.add(start("listener", b -> b.eventListener(noop), b -> b.eventListener(noop), false));
    CallInterceptor pass = (call, next) -> next.proceed();
    variants.add(start("interceptor", b -> b.interceptors(pass), b -> b.interceptors(pass), false));
    PbMetrics serverMetrics = PbMetrics.create(new SimpleMeterRegistry());
    PbMetrics clientMetrics = PbMetrics.create(new SimpleMeterRegistry());
    variants.add(start("micrometer", b -> b.eventListener(serverMetrics),
        b -> b.eventListener(clientMetrics), false));
    variants.add(start("jfr (threshold 0)", b -> {}, b -> {}, true));

    Map<String, double[]> rates = new LinkedHashMap<>();
    Map<String, double[]> bytes = new LinkedHashMap<>();
    for (Variant v : variants) {
      rates.put(v.name(), new double[rounds]);
      bytes.put(v.name(), new double[rounds]);
      run(v, calls, new double[2]); // warm-up
    }
    for (int r = 0; r < rounds; r++) {
      for (Variant v : variants) {
        double[] out = new double[2];
        run(v, calls, out);
        rates.get(v.name())[r] = out[0];
        bytes.get(v.name())[r] = out[1];
      }
    }
    double base = median(rates.get("nothing"));
    System.out.printf("%d blocking in-process echo calls per round, %d rounds, median%n", calls,
        rounds);
    System.out.printf("%-20s %12s %8s %16s%n", "variant", "calls/s", "ratio", "caller B/call");
    for (String name : rates.keySet()) {
      double rate = median(rates.get(name));
      System.out.printf("%-20s %12.0f %8.2f %16.0f%n", name, rate, rate / base,
          median(bytes.get(name)));
    }
    for (Variant v : variants) {
      v.client().shutdown();
      v.client().awaitTermination(Duration.ofSeconds(5));
      v.server().shutdown();
    }
  }

  private static Variant start(
      String name,
      java.util.function.Consumer<PbServer.Builder> server,
      java.util.function.Consumer<PbClient.Builder> client,
      boolean jfr) throws Exception {
    String address = "observe-bench-" + UUID.randomUUID();
    PbServer.Builder sb = PbServer.builder().inProcess(address).root(new EchoRoot());
    server.accept(sb);
    PbServer s = sb.build().start();
    PbClient.Builder cb = PbClient.builder().inProcess(address);
    client.accept(cb);
    PbClient c = cb.build();
    return new Variant(name, s, c, c.rootObject().get(30, TimeUnit.SECONDS), jfr);
  }

  /** Runs {@code calls} calls; out[0] = calls per second, out[1] = caller bytes per call. */
  private static void run(Variant v, int calls, double[] out) throws Exception {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long self = Thread.currentThread().getId();
    Recording recording = null;
    if (v.jfr()) {
      recording = new Recording();
      recording.enable("io.pbj.Call").withThreshold(Duration.ZERO);
      recording.setToDisk(false);
      recording.start();
    }
    try {
      long allocated = threads.getThreadAllocatedBytes(self);
      long start = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        v.root().callRemote(String.class, "echo", "x").get(30, TimeUnit.SECONDS);
      }
      long nanos = System.nanoTime() - start;
      out[1] = (threads.getThreadAllocatedBytes(self) - allocated) / (double) calls;
      out[0] = calls * 1e9 / nanos;
    } finally {
      if (recording != null) {
        recording.stop();
        recording.close();
      }
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
