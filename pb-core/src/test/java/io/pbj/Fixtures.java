package io.pbj;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Objects the broker tests send around. */
final class Fixtures {
  private Fixtures() {}

  record Point(int x, int y) {}

  record Route(String name, List<Point> points, Map<String, List<Integer>> tags) {}

  /** No fields: Kryo writes nothing for it. */
  record Empty() {}

  /** Not registered: sending it must fail. */
  record Unregistered(String value) {}

  /** Nested to any depth. */
  record Nest(Nest inner) {
    static Nest ofDepth(int depth) {
      Nest n = null;
      for (int i = 0; i < depth; i++) {
        n = new Nest(n);
      }
      return n;
    }
  }

  /** A registered exception: arrives as itself. */
  public static final class OutOfStock extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutOfStock(String message) {
      super(message);
    }
  }

  static PbRegistry registry() {
    return PbRegistry.builder()
        .register(Point.class, Route.class, Nest.class, Empty.class)
        .registerException(OutOfStock.class)
        .registerCache(Scoreboard.class, ScoreboardCache.class)
        .build();
  }

  /** A replicated list of entries: the server side. */
  static final class Scoreboard implements Cacheable {
    final List<String> entries = new CopyOnWriteArrayList<>();
    final java.util.Set<RemoteObserver> observers =
        java.util.concurrent.ConcurrentHashMap.newKeySet();
    final List<Object> stoppedPerspectives = new CopyOnWriteArrayList<>();
    final AtomicInteger statesTaken = new AtomicInteger();
    volatile Backpressure backpressure = Backpressure.DEFAULT;

    /** When set, the next stateFor opens this latch, then waits for {@link #stateGate}. */
    volatile java.util.concurrent.CountDownLatch stateGateEntered;
    volatile java.util.concurrent.CountDownLatch stateGate;

    /** Takes the state under the lock {@link #add} pushes under, as {@link Backpressure} advises. */
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      java.util.concurrent.CountDownLatch gate = stateGate;
      if (gate != null) {
        stateGate = null;
        stateGateEntered.countDown();
        try {
          gate.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      synchronized (this) {
        observers.add(observer);
        statesTaken.incrementAndGet();
        return new ArrayList<>(entries);
      }
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {
      observers.remove(observer);
      stoppedPerspectives.add(String.valueOf(perspective));
    }

    @Override
    public Backpressure backpressure() {
      return backpressure;
    }

    synchronized void add(String entry) {
      entries.add(entry);
      for (RemoteObserver o : observers) {
        o.callRemote("added", entry);
      }
    }
  }

  /** An unregistered Cacheable that travels as a {@link Scoreboard} (as a relay's stand-in would). */
  static final class ScoreboardStandIn implements Cacheable {
    final List<String> entries = new CopyOnWriteArrayList<>();

    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return new ArrayList<>(entries);
    }

    @Override
    public Class<? extends Cacheable> sentAs() {
      return Scoreboard.class;
    }
  }

  /** A replicated list of entries: the client side. */
  static final class ScoreboardCache extends RemoteCache {
    final List<String> entries = new CopyOnWriteArrayList<>();
    final AtomicInteger states = new AtomicInteger();

    @Override
    @SuppressWarnings("unchecked")
    protected void setState(Object state) {
      states.incrementAndGet();
      synchronized (entries) { // a reader taking snapshot() never sees it half replaced
        entries.clear();
        entries.addAll((List<String>) state);
      }
    }

    @Remote
    public void added(String entry) {
      synchronized (entries) {
        entries.add(entry);
      }
    }

    /** The entries as they were between two updates (a state lands in one step). */
    List<String> snapshot() {
      synchronized (entries) {
        return List.copyOf(entries);
      }
    }
  }

  /** A view: its methods receive the caller's perspective first. */
  static final class Board implements Viewable {
    @Remote
    public String whoAmI(Object perspective, String suffix) {
      return perspective + suffix;
    }
  }

  /** The typed client view of {@link Root}. */
  interface EchoApi {
    CompletableFuture<String> echo(String text);

    CompletionStage<Integer> add(int a, int b);

    void remember(String text);

    @Remote("echo")
    CompletableFuture<Integer> echoAsInteger(String text);
  }

  /** A typed view whose method types are wrong for the protocol. */
  interface BadApi {
    String echo(String text);
  }

  /** A callback a client passes to the server. */
  static final class Callback implements Referenceable {
    final List<Object> received = new CopyOnWriteArrayList<>();

    @Remote
    public String notify(Object value) {
      received.add(value);
      return "got " + value;
    }
  }

  static final class Counter implements Referenceable {
    private final AtomicInteger value = new AtomicInteger();

    @Remote
    public int increment() {
      return value.incrementAndGet();
    }
  }

  /** An observable whose observers may unsubscribe while being notified. */
  static final class Observable implements Referenceable {
    final List<RemoteReference> observers = new CopyOnWriteArrayList<>();

    @Remote
    public void subscribe(RemoteReference observer) {
      observers.add(observer);
    }

    @Remote
    public void unsubscribe(RemoteReference observer) {
      observers.remove(observer);
    }

    @Remote
    public CompletableFuture<Integer> notifyAll(Object event) {
      List<CompletableFuture<Object>> calls = new ArrayList<>();
      for (RemoteReference o : observers) {
        calls.add(o.callRemote("notify", event, this));
      }
      return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
          .thenApply(v -> observers.size());
    }
  }

  /** The server root used by most tests. */
  static final class Root implements Referenceable {
    final List<String> remembered = new CopyOnWriteArrayList<>();
    final Observable observable = new Observable();
    volatile CompletableFuture<String> later = new CompletableFuture<>();
    /** Completes when {@code later()} is first called (when a call reaches the server). */
    final CompletableFuture<Void> laterCalled = new CompletableFuture<>();
    volatile CompletableFuture<String> cancellable;
    final CompletableFuture<Boolean> cancelSeen = new CompletableFuture<>();
    final List<String> order = new CopyOnWriteArrayList<>();
    volatile String lastThread;

    @Remote
    public String echo(String text) {
      lastThread = Thread.currentThread().getName();
      return text;
    }

    @Remote
    public Object echoValue(Object value) {
      return value;
    }

    /** Fails as an exhausted server would. */
    @Remote
    public String exhaust(String text) {
      throw new OutOfMemoryError("simulated: " + text);
    }

    /** Answers {@code size} bytes after {@code later} completes, from the completing thread. */
    @Remote
    public CompletableFuture<byte[]> exhaustLater() {
      return later.thenApply(
          s -> {
            throw new StackOverflowError("simulated: " + s);
          });
    }

    @Remote
    public int add(int a, int b) {
      return a + b;
    }

    @Remote
    public void remember(String text) {
      remembered.add(text);
    }

    @Remote
    public int record(int i) {
      order.add(Integer.toString(i));
      return i;
    }

    @Remote
    public byte[] reverse(byte[] data) {
      byte[] out = new byte[data.length];
      for (int i = 0; i < data.length; i++) {
        out[i] = data[data.length - 1 - i];
      }
      return out;
    }

    @Remote
    public Object callBack(RemoteReference callback, Object value) throws Exception {
      return callback.callRemote("notify", value).get();
    }

    @Remote
    public CompletableFuture<Object> callBackAsync(RemoteReference callback, Object value) {
      return callback.callRemote("notify", value);
    }

    @Remote
    public Object identity(Object ref) {
      return ref;
    }

    @Remote
    public boolean same(Object a, Object b) {
      return a == b;
    }

    @Remote
    public Counter newCounter() {
      return new Counter();
    }

    @Remote
    public Observable observable() {
      return observable;
    }

    @Remote
    public CompletableFuture<String> later() {
      laterCalled.complete(null);
      return later;
    }

    @Remote
    public CompletableFuture<String> hang() {
      CompletableFuture<String> f = new CompletableFuture<>();
      f.whenComplete((r, t) -> cancelSeen.complete(f.isCancelled()));
      cancellable = f;
      return f;
    }

    @Remote
    public Object unserializableResult() {
      return new Unregistered("result");
    }

    @Remote
    public Object deep(int depth) {
      return Nest.ofDepth(depth);
    }

    @Remote
    public String fail(String message) {
      throw new IllegalStateException(message);
    }

    @Remote
    public String outOfStock(String item) {
      throw new OutOfStock(item + " is out of stock");
    }

    @Remote
    public CompletableFuture<String> failLater(String message) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(message));
    }

    public String notRemote() {
      return "unreachable";
    }

    final Scoreboard scoreboard = new Scoreboard();
    final Board board = new Board();

    @Remote
    public Scoreboard scoreboard() {
      return scoreboard;
    }

    @Remote
    public boolean isScoreboard(Object value) {
      return value == scoreboard;
    }

    @Remote
    public void post(String entry) {
      scoreboard.add(entry);
    }

    @Remote
    public void postMany(int count, int size) {
      String pad = "x".repeat(size);
      for (int i = 0; i < count; i++) {
        scoreboard.add(i + pad);
      }
    }

    @Remote
    public Board board() {
      return board;
    }

    final ScoreboardStandIn standIn = new ScoreboardStandIn();

    @Remote
    public ScoreboardStandIn standIn() {
      return standIn;
    }
  }
}
