package io.pbj.bench.publish;

import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.publish.Publishing;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The server side of the benchmark, in this JVM on loopback TCP: one server publishing the
 * {@link BenchObject}s through a {@link PublishingService} (used by the two PBJ strategies and by
 * the per-object baseline) and one server offering the same number of {@link PlainObject}s from
 * an ordinary root. States are random bytes; {@link #makeStale} gives some objects new bytes
 * (and the published ones a new version) between sessions.
 *
 * <p>Thread-safety: the servers are thread-safe; {@link #makeStale} and {@link #awaitIdle} are
 * called from the benchmark thread only.
 */
final class World implements AutoCloseable {
  /** The publishing server's key, one per run: clients check its proof as real ones do. */
  static final ServerKey KEY = ServerKey.generate();

  static final String SERVER_ID = KEY.serverId();
  static final String SERVICE = "objects";
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /** The root of the plain server: hands out every plain object in one answer. */
  static final class PlainRoot implements Referenceable {
    private final List<PlainObject> objects;

    PlainRoot(List<PlainObject> objects) {
      this.objects = objects;
    }

    /** Every object, in order; each arrives as a {@link PlainCache} with its full state. */
    @Remote
    public List<Object> objects() {
      return new ArrayList<>(objects);
    }
  }

  private final List<BenchObject> published = new ArrayList<>();
  private final List<PlainObject> plain = new ArrayList<>();
  private final SplittableRandom random = new SplittableRandom(42);
  private final int stateBytes;
  private final PbServer publishingServer;
  private final PbServer plainServer;

  World(int objects, int stateBytes) {
    this.stateBytes = stateBytes;
    PublishingService service =
        PublishingService.builder().serverKey(KEY).service(SERVICE).build();
    for (int i = 0; i < objects; i++) {
      published.add(new BenchObject(identity(i), newState()));
      plain.add(new PlainObject(newState()));
    }
    service.publishAll(published);
    publishingServer = PbServer.builder().port(0).registry(serverRegistry())
        .rootFactory(service::endpoint).build().start();
    plainServer = PbServer.builder().port(0).registry(serverRegistry())
        .root(new PlainRoot(plain)).build().start();
  }

  static String identity(int i) {
    return String.format(Locale.ROOT, "object-%05d", i);
  }

  /** What the servers register; clients register the same classes in the same order. */
  static PbRegistry serverRegistry() {
    return Publishing.register(PbRegistry.builder())
        .registerCache(BenchObject.class, BenchPublished.class)
        .registerCache(PlainObject.class, PlainCache.class)
        .build();
  }

  /**
   * The per-object baseline's registry: the same ids and Cacheable classes (so the handshake
   * agrees), with {@link PerObjectCache} created for each {@link BenchObject}.
   */
  static PbRegistry perObjectRegistry() {
    return Publishing.register(PbRegistry.builder())
        .registerCache(BenchObject.class, PerObjectCache.class)
        .registerCache(PlainObject.class, PlainCache.class)
        .build();
  }

  int port(Strategy s) {
    return s == Strategy.PLAIN ? plainServer.port() : publishingServer.port();
  }

  int size() {
    return published.size();
  }

  BenchObject published(int i) {
    return published.get(i);
  }

  PlainObject plain(int i) {
    return plain.get(i);
  }

  /**
   * Gives {@code count} objects spread evenly over the list (starting at {@code offset}) new
   * bytes; for the published objects this is {@code republish()}, a new version.
   */
  void makeStale(Strategy s, int count, int offset) {
    if (count == 0) {
      return;
    }
    int n = published.size();
    int step = n / count;
    for (int k = 0; k < count; k++) {
      int i = (offset % step + k * step) % n;
      if (s == Strategy.PLAIN) {
        plain.get(i).change(newState());
      } else {
        published.get(i).change(newState());
      }
    }
  }

  /**
   * Waits until the servers have seen every client go and no published object has an observer
   * left, so a republish pushes to nobody and the next session starts on a quiet server.
   */
  void awaitIdle() throws InterruptedException {
    long deadline = System.nanoTime() + SHUTDOWN_TIMEOUT.toNanos();
    while (!idle()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the servers still have connections or observers after "
            + SHUTDOWN_TIMEOUT.toSeconds() + " s");
      }
      Thread.sleep(2);
    }
  }

  private boolean idle() {
    if (!publishingServer.connections().isEmpty() || !plainServer.connections().isEmpty()) {
      return false;
    }
    for (BenchObject o : published) {
      if (o.observerCount() != 0) {
        return false;
      }
    }
    return true;
  }

  private byte[] newState() {
    byte[] b = new byte[stateBytes];
    random.nextBytes(b);
    return b;
  }

  @Override
  public void close() throws InterruptedException {
    publishingServer.shutdown();
    plainServer.shutdown();
    publishingServer.awaitTermination(SHUTDOWN_TIMEOUT);
    plainServer.awaitTermination(SHUTDOWN_TIMEOUT);
  }
}
