package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.pbj.publish.PublishedClient.Mode;
import io.pbj.publish.PublishingRun.Restart;
import io.pbj.publish.PublishingRun.Kind;
import io.pbj.publish.PublishingRun.Scope;
import io.pbj.publish.PublishingRun.Spec;
import io.pbj.publish.PublishingRun.Versioning;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.AsString;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Configuration;
import org.quicktheories.core.Gen;
import org.quicktheories.core.Reporter;
import org.quicktheories.generators.Generate;

/**
 * A live published world under any sequence of server changes and client moves: whole-state
 * republishes and deltas (pushed to an attached client or not, also during an attach's
 * activation) of byte-state tiles and typed counters ({@link RemoteValue}), publishes (of new
 * identities and of identities published before) and unpublishes, a live attachment's interest
 * growing and shrinking ({@link Attachment#add}, {@link Attachment#drop}), reconnects in either
 * mode to the whole service or a subset, store reopens and server restarts. The client's store
 * only ever holds a state the server really had at the stored version; every state that reached
 * user code (activation, update and publish listeners) was one the server had at that version,
 * and never one of an object already unpublished; an attach activates exactly the server's
 * current states and versions and removes what the server no longer publishes; once the server
 * stops changing, the live client's view and store equal the server's (every object it covers at
 * the server's version and state, no object the server unpublished while it was attached); and an
 * attach after no server-side change is all hits. {@link PublishingRun} drives the real server,
 * client and file store over the in-process transport and holds the checks. Relays are left out:
 * a relay does not follow publishes and unpublishes made after it attached (see {@link Relay}).
 *
 * <p>The property runs with QuickTheories inside a plain JUnit test. A failure reports the
 * smallest sequence it shrank to, the run of that sequence step by step, and the seed: run it
 * again with {@code -DQT_SEED=<seed>} (QuickTheories reads it). {@code -DQT_EXAMPLES=<n>} and
 * {@code -DQT_SHRINKS=<n>} change the number of examples and of shrink attempts; below the
 * default number of examples the coverage check is skipped.
 *
 * <p>A change during an activation must end with the store in sync too: the property found that
 * it did not, once (PublishingPushDuringActivationTest keeps the case).
 */
class PublishingPropertyTest {
  /** About as many examples as take 15 s on two cores; each starts a server, client and store. */
  static final int EXAMPLES = 40;
  /** Shrink attempts after a failure; each runs a whole sequence again. */
  static final int SHRINK_CYCLES = 1_000;
  /**
   * How long shrinking may take after the first failure: a failing run can take the run's 10 s
   * patience, and a thousand of those would be hours. Once it is spent, the remaining attempts
   * are not run and count as passing, so the sequence reported is always one that failed.
   */
  static final Duration SHRINK_TIME = Duration.ofSeconds(60);

  /**
   * Examples added, a round at a time with seeds of their own, while some kind of step or
   * outcome has not happened yet: the seeds are random, and the rarest outcomes happen in about
   * one example in twenty.
   */
  static final int TOP_UP_EXAMPLES = 20;
  static final int TOP_UP_ROUNDS = 4;

  @Test
  void theClientEndsEqualToTheServerAndShowsOnlyRealStatesAfterAnySequence() {
    int examples = Integer.getInteger(Configuration.EXAMPLES, EXAMPLES);
    long seed = Long.getLong(Configuration.SEED, System.nanoTime());
    Coverage coverage = new Coverage();
    ShrinkBudget budget = new ShrinkBudget(SHRINK_TIME);
    runExamples(seed, examples, coverage, budget);
    System.out.println("what the examples did:" + System.lineSeparator() + coverage);
    if (examples < EXAMPLES) {
      return;
    }
    for (int round = 1; ; round++) {
      try {
        requireCoverage(coverage);
        return;
      } catch (AssertionError missing) {
        if (round > TOP_UP_ROUNDS) {
          throw missing;
        }
        long more = seed + round;
        System.out.println("not every outcome happened yet: " + TOP_UP_EXAMPLES
            + " more examples with seed " + more);
        runExamples(more, TOP_UP_EXAMPLES, coverage, budget);
      }
    }
  }

  private static void runExamples(
      long seed, int examples, Coverage coverage, ShrinkBudget budget) {
    try {
      qt().withFixedSeed(seed)
          .withExamples(examples)
          .withShrinkCycles(Integer.getInteger(Configuration.SHRINKS, SHRINK_CYCLES))
          .forAll(worlds(), diskBackends(), actions(), arbitrary().enumValues(Mode.class))
          .checkAssert((objects, backend, actions, finalMode) -> {
            if (budget.spent()) {
              return;
            }
            try {
              runExample(objects, backend, actions, finalMode, coverage);
            } catch (Throwable failure) {
              budget.failed();
              throw failure;
            }
          });
    } catch (AssertionError falsified) {
      throw new AssertionError("falsified; to run the same examples again, add -D"
          + Configuration.SEED + "=" + seed + (examples == TOP_UP_EXAMPLES
              ? " -D" + Configuration.EXAMPLES + "=" + TOP_UP_EXAMPLES : "")
          + " to the command", falsified);
    }
  }

  /** Every kind of step, and every way a change, an announcement and an attach can go. */
  private static void requireCoverage(Coverage coverage) {
    // Every kind of step, and every way a change, an announcement and an attach can go, ran in
    // some example.
    for (Class<?> kind : Action.class.getPermittedSubclasses()) {
      requireSome(coverage, "steps", kind.getSimpleName());
    }
    for (String label : List.of("updates", "deltas")) {
      requireSome(coverage, label, "no client attached");
      requireSome(coverage, label, "client attached, push awaited");
      requireSome(coverage, label, "client attached, push not awaited");
    }
    assertThat(coverage.count("updates", v -> v.equals(List.of("client attached, not in its view")))
        + coverage.count("deltas", v -> v.equals(List.of("client attached, not in its view"))))
        .as("changes of an object out of the view in some example%n%s", coverage)
        .isPositive();
    requireSome(coverage, "deltas of", "bytes");
    requireSome(coverage, "deltas of", "a record");
    for (Kind kind : Kind.values()) {
      assertThat(coverage.count("publishes", v -> v.size() == 2 && v.get(0) == kind))
          .as("publishes of a %s in some example%n%s", kind, coverage)
          .isPositive();
    }
    assertThat(coverage.count("publishes", v -> v.size() == 2 && v.get(1).equals("identity again")))
        .as("an identity published again in some example%n%s", coverage)
        .isPositive();
    requireSome(coverage, "publishes", "client attached, announcement awaited");
    requireSome(coverage, "publishes", "client attached, announcement not awaited");
    requireSome(coverage, "unpublishes", "no client attached");
    requireSome(coverage, "unpublishes", "client attached, announcement awaited");
    requireSome(coverage, "unpublishes", "client attached, announcement not awaited");
    for (String change : List.of("add", "drop")) {
      for (Scope scope : Scope.values()) {
        assertThat(coverage.count("interest changes",
                v -> v.get(0).equals(change) && v.get(1) == scope))
            .as("%s on a %s attachment in some example%n%s", change, scope, coverage)
            .isPositive();
      }
    }
    for (Mode mode : Mode.values()) {
      assertThat(coverage.count("attaches",
              v -> v.get(0) == mode && v.get(1).equals("all hits")))
          .as("%s attaches with all hits in some example%n%s", mode, coverage)
          .isPositive();
      assertThat(coverage.count("attaches", v -> v.get(0) == mode && !v.get(1).equals("all hits")))
          .as("%s attaches with a stale object in some example%n%s", mode, coverage)
          .isPositive();
    }
    assertThat(coverage.count("attaches", v -> v.get(1).equals("some hits")))
        .as("attaches with some hits in some example%n%s", coverage)
        .isPositive();
    assertThat(coverage.count("attaches", v -> v.get(2) == Scope.SUBSET))
        .as("attaches to a subset in some example%n%s", coverage)
        .isPositive();
    assertThat(coverage.count("whole attaches that removed unpublished objects", v -> true))
        .as("an attach that removed unpublished objects in some example%n%s", coverage)
        .isPositive();
    assertThat(coverage.count("settled with a client attached",
            v -> v.get(1).equals("objects in view")))
        .as("a settled live client in some example%n%s", coverage)
        .isPositive();
  }

  /**
   * One example with its own cleanup: whatever happens, the servers and clients it started are
   * closed and must terminate, and a Netty leak fails it. A failure carries the run's log.
   */
  private static void runExample(
      List<Spec> objects,
      StoreBackend backend,
      List<Action> actions,
      Mode finalMode,
      Coverage coverage) {
    List<String> log = new ArrayList<>();
    PbCleanup cleanup = new PbCleanup();
    Throwable failure = null;
    try {
      Path dir = Files.createTempDirectory("pbj-publish-property");
      try (PublishingRun run = new PublishingRun(
          cleanup, dir.resolve("snapshots.db"), backend, objects, log::add, coverage)) {
        // Most steps happen live: the client starts attached to the whole service.
        log.add("reconnect(" + finalMode + ")");
        run.reconnect(finalMode);
        for (Action action : actions) {
          log.add(action.toString());
          coverage.collect("steps", action.getClass().getSimpleName());
          action.applyTo(run);
          run.checkShown();
        }
        log.add("settle");
        run.settle();
        Mode otherMode = finalMode == Mode.INVENTORY ? Mode.VERSIONS : Mode.INVENTORY;
        log.add("final reconnect(" + finalMode + "), then reconnect(" + otherMode + ")");
        run.reconnect(finalMode);
        Attachment again = run.reconnect(otherMode);
        assertThat(again.hits()).as("a second attach with nothing changed")
            .isEqualTo(run.publishedCount());
        run.settle();
      } finally {
        deleteRecursively(dir);
      }
    } catch (Throwable t) {
      failure = t;
    }
    try {
      cleanup.close();
    } catch (Throwable cleanupFailure) {
      if (failure == null) {
        failure = cleanupFailure;
      } else {
        failure.addSuppressed(cleanupFailure);
      }
    }
    if (failure != null) {
      String what = failure instanceof AssertionError ? failure.getMessage() : failure.toString();
      throw new AssertionError(what + System.lineSeparator() + "The run, step by step:"
          + System.lineSeparator() + "  " + String.join(System.lineSeparator() + "  ", log),
          failure);
    }
  }

  /** Starts its clock at the first failure; then says when the time for shrinking is spent. */
  private static final class ShrinkBudget {
    private final Duration time;
    private long deadline;
    private boolean started;

    ShrinkBudget(Duration time) {
      this.time = time;
    }

    void failed() {
      if (!started) {
        started = true;
        deadline = System.nanoTime() + time.toNanos();
      }
    }

    boolean spent() {
      return started && System.nanoTime() - deadline > 0;
    }
  }

  private static void requireSome(Coverage coverage, String label, Object... values) {
    assertThat(coverage.count(label, v -> v.equals(List.of(values))))
        .as("%s %s in some example%n%s", label, List.of(values), coverage)
        .isPositive();
  }

  /**
   * The action sequences shrink, removing steps from anywhere: a property that fails whenever a
   * sequence holds a store reopen is reported with that one step. Fixed seed: this checks the
   * generators and QuickTheories' shrinking, not luck.
   */
  @Test
  void actionSequencesShrinkToTheOneStepThatMatters() {
    AtomicReference<Object> smallest = new AtomicReference<>();
    AtomicReference<Object> firstFound = new AtomicReference<>();
    Reporter capture = new Reporter() {
      @Override
      public void falisification(long seed, int count, Object value, Throwable cause,
          List<Object> found, AsString<Object> toString) {
        smallest.set(value);
        firstFound.set(found.isEmpty() ? value : found.get(found.size() - 1));
      }

      @Override
      public void falisification(long seed, int count, Object value, List<Object> found,
          AsString<Object> toString) {
        smallest.set(value);
        firstFound.set(found.isEmpty() ? value : found.get(found.size() - 1));
      }

      @Override
      public void valuesExhausted(int completedExamples) {}
    };

    qt().withFixedSeed(20_240_601L).withExamples(1_000).withShrinkCycles(5_000)
        .withReporter(capture)
        .forAll(actions())
        .checkAssert(actions -> assertThat(actions).noneMatch(ReopenStore.class::isInstance));

    assertThat(smallest.get()).as("a falsifying sequence was found").isNotNull();
    @SuppressWarnings("unchecked")
    List<Action> shrunk = (List<Action>) smallest.get();
    @SuppressWarnings("unchecked")
    List<Action> first = (List<Action>) firstFound.get();
    assertThat(shrunk).as("shrunk from %s", first).containsExactly(new ReopenStore());
  }

  /** What each of 1 to 8 objects published at the start is and how it gets its versions. */
  static Gen<List<Spec>> worlds() {
    return lists().of(arbitrary().enumValues(Kind.class)
            .zip(arbitrary().enumValues(Versioning.class), Spec::new))
        .ofSizeBetween(1, 8);
  }

  static Gen<StoreBackend> diskBackends() {
    return arbitrary().pick(StoreBackend.MAPDB, StoreBackend.MVSTORE);
  }

  /**
   * Up to 20 steps, changes the most likely. Shrinking removes steps and turns each remaining one
   * towards its simplest form (object 0, value 0, the service's counter, nothing awaited).
   */
  static Gen<List<Action>> actions() {
    Gen<Action> update = integers().between(0, 9).zip(
        integers().between(0, 3),
        arbitrary().enumValues(Versioning.class),
        booleans().all(),
        Update::new);
    Gen<Action> delta = integers().between(0, 9).zip(
        integers().between(0, 3),
        arbitrary().enumValues(Versioning.class),
        booleans().all(),
        Delta::new);
    Gen<Action> publish = integers().between(0, 9).zip(
        arbitrary().enumValues(Kind.class),
        arbitrary().enumValues(Versioning.class),
        integers().between(0, 3),
        booleans().all(),
        Publish::new);
    Gen<Action> unpublish = integers().between(0, 9).zip(booleans().all(), Unpublish::new);
    Gen<Action> interest =
        booleans().all().zip(integers().between(1, (1 << PublishingRun.IDENTITIES) - 1),
            ChangeInterest::new);
    Gen<Action> reconnect = arbitrary().enumValues(Mode.class).zip(
        arbitrary().enumValues(Scope.class),
        integers().between(0, (1 << PublishingRun.IDENTITIES) - 1),
        Reconnect::new);
    Gen<Action> racingReconnect = arbitrary().enumValues(Mode.class).zip(
        integers().between(0, 9),
        integers().between(0, 3),
        ReconnectWhileServerChanges::new);
    Gen<Action> restart = arbitrary().enumValues(Restart.class).map(RestartServer::new);
    List<Pair<Integer, Gen<Action>>> weighted = List.of(
        Pair.of(4, update),
        Pair.of(4, delta),
        Pair.of(2, publish),
        Pair.of(2, unpublish),
        Pair.of(5, interest),
        Pair.of(4, reconnect),
        Pair.of(1, racingReconnect),
        Pair.of(1, Generate.constant(new Settle())),
        Pair.of(1, Generate.constant(new Disconnect())),
        Pair.of(1, Generate.constant(new ReopenStore())),
        Pair.of(1, restart));
    return lists().of(droppable(Generate.frequency(weighted))).ofSizeBetween(0, 20)
        .map(steps -> steps.stream().flatMap(Optional::stream).toList());
  }

  /**
   * A step that shrinking can remove from anywhere in a sequence, not only from its end (lists
   * shrink by size, which drops their last elements): one draw in ten leaves it out, and that draw
   * shrinks towards leaving it out.
   */
  private static <T> Gen<Optional<T>> droppable(Gen<T> step) {
    return step.zip(integers().between(0, 9),
        (s, keep) -> keep == 0 ? Optional.<T>empty() : Optional.of(s));
  }

  /** One step of a sequence; its string is how a failing sequence is printed. */
  sealed interface Action {
    void applyTo(PublishingRun run) throws Exception;
  }

  /**
   * The server changes object {@code object} (modulo the number published) and republishes its
   * whole state.
   */
  record Update(int object, int value, Versioning versioning, boolean waitForPush)
      implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.update(object, value, versioning, waitForPush);
    }

    @Override
    public String toString() {
      return "update(#" + object + " := " + value + ", "
          + (versioning == Versioning.SERVICE ? "republish()" : "republish(v)")
          + (waitForPush ? ", wait for the push" : ", push not awaited") + ")";
    }
  }

  /**
   * The server changes object {@code object} (modulo the number published) and pushes the change
   * as a delta: a tile appends "+value", a counter adds value + 1.
   */
  record Delta(int object, int value, Versioning versioning, boolean waitForPush)
      implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.delta(object, value, versioning, waitForPush);
    }

    @Override
    public String toString() {
      return "delta(#" + object + " by " + value + ", "
          + (versioning == Versioning.SERVICE ? "republishDelta(method)" : "republishDelta(v)")
          + (waitForPush ? ", wait for the push" : ", push not awaited") + ")";
    }
  }

  /** The server publishes a new object under obj-{@code object}, or the next free identity. */
  record Publish(int object, Kind kind, Versioning versioning, int value, boolean waitForIt)
      implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.publish(object, kind, versioning, value, waitForIt);
    }

    @Override
    public String toString() {
      return "publish(obj-" + object + " or the next free, " + kind + " " + value + ", "
          + versioning + (waitForIt ? ", wait for the announcement" : ", not awaited") + ")";
    }
  }

  /** The server unpublishes object {@code object} (modulo the number published). */
  record Unpublish(int object, boolean waitForIt) implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.unpublish(object, waitForIt);
    }

    @Override
    public String toString() {
      return "unpublish(#" + object
          + (waitForIt ? ", wait for the announcement" : ", not awaited") + ")";
    }
  }

  /** The live attachment adds or drops the identities obj-i for each bit i of {@code mask}. */
  record ChangeInterest(boolean add, int mask) implements Action {
    @Override
    public void applyTo(PublishingRun run) throws Exception {
      run.changeInterest(add, mask);
    }

    @Override
    public String toString() {
      StringBuilder ids = new StringBuilder();
      for (int i = 0; i < PublishingRun.IDENTITIES; i++) {
        if ((mask & (1 << i)) != 0) {
          ids.append(ids.length() == 0 ? "" : ", ").append("obj-").append(i);
        }
      }
      return (add ? "add(" : "drop(") + ids + ")";
    }
  }

  /** Waits until the live client reached the server and checks its view and store. */
  record Settle() implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.settle();
    }

    @Override
    public String toString() {
      return "settle";
    }
  }

  /** The client closes its connection. */
  record Disconnect() implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.disconnect();
    }

    @Override
    public String toString() {
      return "disconnect";
    }
  }

  /**
   * The client attaches again on a new connection: to the whole service, or to the published
   * objects picked by the bits of {@code mask}.
   */
  record Reconnect(Mode mode, Scope scope, int mask) implements Action {
    @Override
    public void applyTo(PublishingRun run) throws Exception {
      run.reconnect(mode, scope, mask);
    }

    @Override
    public String toString() {
      return "reconnect(" + mode + (scope == Scope.WHOLE ? "" : ", subset " + mask) + ")";
    }
  }

  /**
   * The client attaches again while the server changes object {@code object} (modulo the number
   * published).
   */
  record ReconnectWhileServerChanges(Mode mode, int object, int value) implements Action {
    @Override
    public void applyTo(PublishingRun run) throws Exception {
      run.reconnectWhileServerChanges(mode, object, value);
    }

    @Override
    public String toString() {
      return "reconnect(" + mode + ") while the server changes #" + object + " := "
          + value + " with republish()";
    }
  }

  /** The client closes its store (disconnecting first) and opens the file again. */
  record ReopenStore() implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.reopenStore();
    }

    @Override
    public String toString() {
      return "reopen store";
    }
  }

  /** The server stops and starts again with the same server id. */
  record RestartServer(Restart restart) implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.restartServer(restart);
    }

    @Override
    public String toString() {
      return "restart server(" + restart + ")";
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
