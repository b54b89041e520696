package io.pbj.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that closes the servers, clients and stores a test opened and fails the
 * test if anything leaked: a PBJ thread still running, or a Netty buffer never released. It is
 * PBJ's counterpart of grpc-java's {@code GrpcCleanupRule}.
 *
 * <pre>{@code
 * class ChatTest {
 *   @RegisterExtension final PbCleanup cleanup = new PbCleanup();
 *
 *   @Test
 *   void aMessageReachesTheRoom() throws Exception {
 *     PbServer server = cleanup.register(
 *         PbServer.builder().inProcess("chat").root(new Lobby()).build().start());
 *     PbClient client = cleanup.register(PbClient.builder().inProcess("chat").build());
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>After each test, every {@link AutoCloseable} registered is closed, the last registered
 * first (so a client registered after its server is closed before it); {@code PbServer} and
 * {@code PbClient} wait in {@code close()} until their threads are released. Then the test fails
 * if:
 *
 * <ul>
 *   <li>closing one of them threw (the others are closed all the same);
 *   <li>a thread whose name starts with {@code pbj-} (PBJ names every thread its servers, clients
 *       and stores start that way; not {@code pbj-shared-}, the process-wide pools that end on
 *       their own when idle) and that was started during the test is still alive once the
 *       timeout (10 s unless {@link #timeout} says otherwise) has passed after the last close: a
 *       server, client or store left open, registered or not;
 *   <li>Netty reported a leaked buffer (except one that Netty's in-process channel strands itself
 *       when one side closes while the other writes: Netty logs it, the test is not failed for
 *       it). Loading this class sets Netty's leak detection to {@code
 *       paranoid} (every buffer tracked, as tests want) and records what the detector reports, so
 *       create it before the test allocates buffers, as a field like the one above is.
 * </ul>
 *
 * <p>Outside JUnit's lifecycle, such as one cleanup per example of a property test, use it as a
 * resource: {@link #close()} does what the extension does after a test.
 *
 * <pre>{@code
 * try (PbCleanup cleanup = new PbCleanup()) {
 *   PbServer server = cleanup.register(PbServer.builder()...build().start());
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safety: {@link #register} may be called from any thread; the cleanup runs on the
 * thread that runs the test. Threads are told apart by when they started, so it assumes the
 * tests of a JVM run one at a time (JUnit's default): threads of a test running at the same time
 * would be counted as this test's.
 */
public final class PbCleanup implements BeforeEachCallback, AfterEachCallback, AutoCloseable {
  /** How the name of every thread that PBJ starts begins. */
  static final String THREAD_PREFIX = "pbj-";

  /**
   * How the names of the threads of PBJ's process-wide pools begin (the decode pool): shared by
   * every server and client, they end on their own when idle, not when one of them closes.
   */
  static final String SHARED_PREFIX = "pbj-shared-";

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  /** What the leak detector reported and no cleanup has reported yet. Guarded by itself. */
  private static final List<String> LEAKS = new ArrayList<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  /** Guarded by this. */
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  /** The PBJ threads alive when the test started: not the test's to stop. Guarded by this. */
  private Set<Thread> threadsBefore = pbjThreads();
  /** Guarded by this; null until set. */
  private Duration timeout;

  /** A cleanup with nothing registered; the PBJ threads alive now are not counted as leaks. */
  public PbCleanup() {}

  /**
   * How long the cleanup waits, after closing everything, for the threads the test started to
   * end; 10 s unless set. Can be set once.
   *
   * @throws IllegalStateException if the timeout was already set
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   */
  public synchronized PbCleanup timeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (this.timeout != null) {
      throw new IllegalStateException("PbCleanup timeout is already set (to " + this.timeout + ")");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("PbCleanup timeout must be positive, was " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Closes {@code resource} after the test, before everything registered earlier.
   *
   * @return {@code resource}, to register where it is made
   */
  public <T extends AutoCloseable> T register(T resource) {
    Objects.requireNonNull(resource, "resource");
    synchronized (this) {
      resources.push(resource);
    }
    return resource;
  }

  /** Takes the PBJ threads alive now as the ones the test found (not its to stop). */
  @Override
  public void beforeEach(ExtensionContext context) {
    Set<Thread> alive = pbjThreads();
    synchronized (this) {
      threadsBefore = alive;
    }
  }

  /** Does what {@link #close()} does. */
  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /**
   * Closes every registered resource, the last registered first, waits for the PBJ threads
   * started since this cleanup was made (or since the test started) to end, and checks Netty's
   * leak reports. The cleanup can then be used again: nothing stays registered, and the PBJ
   * threads alive now are not counted against the next use.
   *
   * @throws AssertionError naming every problem found: a resource that failed to close, the PBJ
   *     threads still alive after the timeout, the buffers that leaked
   */
  @Override
  public void close() {
    List<AssertionError> problems = new ArrayList<>();
    AutoCloseable resource;
    while ((resource = next()) != null) {
      try {
        resource.close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        problems.add(new AssertionError("closing " + resource + " failed: " + e, e));
      }
    }
    Set<Thread> before;
    Duration patience;
    synchronized (this) {
      before = threadsBefore;
      patience = timeout != null ? timeout : DEFAULT_TIMEOUT;
    }
    List<Thread> running;
    try {
      running = awaitEnd(before, System.nanoTime() + patience.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = started(before);
    }
    if (!running.isEmpty()) {
      List<String> names = new ArrayList<>();
      for (Thread t : running) {
        names.add(t.getName());
      }
      problems.add(new AssertionError(names.size() + " PBJ thread(s) started by the test still"
          + " running " + patience.toMillis() + " ms after the cleanup closed everything (a"
          + " server, client or store not closed?): " + names));
    }
    List<String> leaks = leaksReported();
    if (!leaks.isEmpty()) {
      problems.add(new AssertionError(leaks.size() + " Netty buffer leak(s): "
          + String.join(System.lineSeparator(), leaks)));
    }
    synchronized (this) {
      threadsBefore = pbjThreads();
    }
    if (problems.size() == 1) {
      throw problems.get(0);
    }
    if (!problems.isEmpty()) {
      StringBuilder message = new StringBuilder("PbCleanup found " + problems.size() + " problems:");
      for (AssertionError p : problems) {
        message.append(System.lineSeparator()).append("- ").append(p.getMessage());
      }
      AssertionError all = new AssertionError(message.toString());
      problems.forEach(all::addSuppressed);
      throw all;
    }
  }

  private synchronized AutoCloseable next() {
    return resources.poll();
  }

  /**
   * Waits until no PBJ thread started since {@code before} is alive, or the deadline; returns the
   * ones still alive. Joins them rather than polling; looks again after, for threads that were
   * started while it waited (a pool replacing a worker during its shutdown).
   */
  private static List<Thread> awaitEnd(Set<Thread> before, long deadline)
      throws InterruptedException {
    List<Thread> running = started(before);
    while (!running.isEmpty()) {
      for (Thread t : running) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return started(before);
        }
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
      running = started(before);
    }
    return running;
  }

  private static List<Thread> started(Set<Thread> before) {
    List<Thread> started = new ArrayList<>();
    for (Thread t : pbjThreads()) {
      if (!before.contains(t)) {
        started.add(t);
      }
    }
    return started;
  }

  private static Set<Thread> pbjThreads() {
    Set<Thread> pbj = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String name = t.getName();
      if (name.startsWith(THREAD_PREFIX) && !name.startsWith(SHARED_PREFIX) && t.isAlive()) {
        pbj.add(t);
      }
    }
    return pbj;
  }

  /**
   * Lets the detector see the buffers that became unreachable during the test, then takes what it
   * reported. The detector finds leaks when it tracks a new buffer; a weak reference enqueued by
   * the same collection tells when the collected ones are there to be found.
   */
  private static List<String> leaksReported() {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
    System.gc();
    try {
      queue.remove(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Reference.reachabilityFence(sentinel);
    for (int i = 0; i < 64; i++) {
      ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
      b.release();
    }
    synchronized (LEAKS) {
      List<String> reported = List.copyOf(LEAKS);
      LEAKS.clear();
      return reported;
    }
  }

  private static void recordLeak(String leak) {
    synchronized (LEAKS) {
      LEAKS.add(leak);
    }
  }

  /**
   * Whether a leak report is of the one leak that Netty's in-process channel itself causes:
   * {@code LocalChannel.doWrite} checks that the peer is connected, then adds the message to the
   * peer's queue; when the peer closes on its own event loop between the two, it has already
   * emptied that queue, and the message stays there (Netty 4.2.18). Such a buffer's last use is
   * that hand-over: the receiving side never touched it (a buffer that reached the receiver's
   * pipeline has a later record, from the pipeline that read it). These are logged by Netty, not
   * counted against the test: a test that closes an in-process connection while the other side
   * writes would otherwise fail now and then whatever PBJ does.
   */
  static boolean strandedByInProcessClose(String records) {
    int first = records.indexOf("#1:");
    if (first < 0) {
      return false;
    }
    int next = records.indexOf("\n#", first + 3);
    String last = next < 0 ? records.substring(first) : records.substring(first, next);
    return last.contains("io.netty.channel.ChannelOutboundBuffer.remove(")
        && last.contains("io.netty.channel.local.LocalChannel.doWrite(");
  }

  /** Makes detectors that record what they report, whatever the logging configuration. */
  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      return new ResourceLeakDetector<T>(resource, samplingInterval) {
        @Override
        protected boolean needReport() {
          return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
          if (!strandedByInProcessClose(records)) {
            recordLeak(resourceType + " leaked:" + records);
          }
          super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
          recordLeak(resourceType + " leaked");
          super.reportUntracedLeak(resourceType);
        }
      };
    }
  }
}
